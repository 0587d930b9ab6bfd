"""The HTTP API (OpenAPI at /docs): runs, their events (SSE), resume, review, batches, files."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from agent.nodes.review import ReviewDecision
from agent.planning.questions import InputAnswer
from agent.studio.jobs import Job
from agent.studio.service import RunRequest, Studio, StudioError
from agent.studio.uploads import UploadError, library_films, store_upload

router = APIRouter(tags=["runs"])
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

_MULTIPART_RUN = {"requestBody": {"content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/RunRequest"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["request"], "properties": {
        "request": {"type": "string"}, "strategy": {"type": "string", "enum": ["react", "cot", "tot"]},
        "llm": {"type": "string", "enum": ["local", "openai", "fake"]}, "review": {"type": "boolean"},
        "film": {"type": "string", "description": "a film in the media library (or upload one as `file`)"},
        "file": {"type": "string", "format": "binary", "description": "a film to upload"}}}}}}}
_JSONL_BATCH = {"requestBody": {"content": {
    "application/x-ndjson": {"schema": {"type": "string", "description": "one RunRequest JSON object per line"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary", "description": "a .jsonl file"}}}}}}}


class RunCreated(BaseModel):
    run_id: str
    status: str
    links: dict[str, str]


class BatchCreated(BaseModel):
    batch_id: str
    runs: list[RunCreated]


class ReviewBody(ReviewDecision):
    """A review decision as the API takes it: a field it does not know is an error, as for a run."""

    model_config = ConfigDict(extra="forbid")


class AnswerBody(InputAnswer):
    """An answer to a run's question as the API takes it: unknown fields are refused too."""

    model_config = ConfigDict(extra="forbid")


def studio(request: Request) -> Studio:
    return request.app.state.studio


def existing_job(run_id: str, request: Request) -> Job:
    return studio(request).job(run_id)  # StudioError(404) before any response starts


def _created(job: Job) -> RunCreated:
    return RunCreated(run_id=job.run_id, status=job.status,
                      links={"self": f"/runs/{job.run_id}", "events": f"/runs/{job.run_id}/events",
                             "page": f"/ui/runs/{job.run_id}"})


def validation_problems(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors without the input they were about (a client's body is never echoed back)."""
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors(include_input=False)]


def parse_run_request(fields: Any) -> RunRequest:
    if not isinstance(fields, dict):
        raise StudioError(422, f"the body is JSON {type(fields).__name__}, not an object: send "
                               '{"request": "...", "film": ...} (a RunRequest)')
    try:
        return RunRequest.model_validate(fields)
    except ValidationError as exc:
        raise StudioError(422, validation_problems(exc)) from None


async def json_body(request: Request) -> Any:
    """The body parsed as JSON; a body that is not JSON, or nested past the parser's depth, is a 422."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise StudioError(422, "the body is not JSON (send a RunRequest, or a multipart form)") from None
    except RecursionError:
        raise StudioError(422, "the body's JSON is nested too deeply") from None


async def run_request_from(request: Request, st: Studio) -> RunRequest:
    """A RunRequest from JSON, or from a multipart form with an optional uploaded film."""
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form(max_files=1, max_fields=20)
        fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
        fields["review"] = fields.get("review", "").lower() in ("1", "true", "on", "yes")
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            st.check(parse_run_request({**fields, "film": None}))  # the other fields first: a refusal stores nothing
            try:
                stored = await run_in_threadpool(store_upload, upload.file, upload.filename, st.settings)
            except UploadError as exc:
                raise StudioError(exc.status, str(exc)) from None
            fields["film"] = st.film_name(stored)
        return parse_run_request(fields)
    return parse_run_request(await json_body(request))


@router.post("/runs", status_code=202, response_model=RunCreated, openapi_extra=_MULTIPART_RUN)
async def create_run(request: Request) -> RunCreated:
    """Queue a run (JSON `RunRequest`, or a multipart form with an uploaded film as `file`)."""
    st = studio(request)
    req = await run_request_from(request, st)
    return _created(st.submit([st.job_for(req)])[0])


@router.get("/runs")
def list_runs(request: Request, limit: int = 200) -> list[dict[str, Any]]:
    """Runs newest first: status, score, seconds, request."""
    return studio(request).runs(min(max(limit, 1), 1000))


@router.get("/runs/{run_id}")
def get_run(run_id: str, request: Request) -> dict[str, Any]:
    """Status, live progress, the pending review and the result."""
    return studio(request).info(run_id)


@router.get("/runs/{run_id}/events", response_class=EventSourceResponse)
async def run_events(request: Request, job: Annotated[Job, Depends(existing_job)],
                     last_event_id: str | None = Header(None)) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: status, node, progress, review, result (`id` = sequence; Last-Event-ID resumes)."""
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    async for event in studio(request).hub.follow(job.run_id, after):
        yield ServerSentEvent(data=event, event=event["type"], id=str(event["seq"]))


@router.post("/runs/{run_id}/cancel", status_code=202, response_model=RunCreated)
def cancel_run(run_id: str, request: Request) -> RunCreated:
    """Stop a queued or running run: its child processes are killed and it ends `cancelled`; resume
    continues it from its last checkpoint."""
    return _created(studio(request).cancel(run_id))


@router.post("/runs/{run_id}/resume", status_code=202, response_model=RunCreated)
def resume_run(run_id: str, request: Request) -> RunCreated:
    """Continue a run that stopped (error, or cut off by a server stop) from its last checkpoint."""
    return _created(studio(request).resume(run_id))


@router.post("/runs/{run_id}/review", status_code=202, response_model=RunCreated)
def review_run(run_id: str, decision: ReviewBody, request: Request) -> RunCreated:
    """Answer the review a run waits for: approve, edit (script lines / a scene) or reject."""
    return _created(studio(request).review(run_id, decision.model_dump(exclude_none=True)))


@router.post("/runs/{run_id}/input", status_code=202, response_model=RunCreated)
def answer_run(run_id: str, answer: AnswerBody, request: Request) -> RunCreated:
    """Answer the question a run waits for (status `needs_input`): `{"option": KEY}` or `{"value": "..."}`."""
    return _created(studio(request).answer(run_id, answer.model_dump(exclude_none=True)))


@router.post("/batches", status_code=202, response_model=BatchCreated, openapi_extra=_JSONL_BATCH)
async def create_batch(request: Request) -> BatchCreated:
    """Queue many runs from JSONL (one RunRequest per line); a bad line rejects the whole batch."""
    st = studio(request)
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        raw = await upload.read() if isinstance(upload, UploadFile) else str(form.get("jsonl", "")).encode()
    else:
        raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise StudioError(422, "the batch is not UTF-8 text") from None
    batch_id, jobs = st.submit_batch(text.splitlines())
    return BatchCreated(batch_id=batch_id, runs=[_created(j) for j in jobs])


@router.get("/runs/{run_id}/files/{path:path}", response_model=None)
def run_file(run_id: str, path: str, request: Request) -> Response:
    """A file of the run folder (the report, the video, keyframes); nothing outside it. The report
    is made when missing and links back to the run in the studio; a run that stopped before it had
    a folder gets a short page saying why."""
    st = studio(request)
    if path != "report.html":
        return FileResponse(st.run_file(run_id, path))
    if not st.ensure_report(run_id):
        job = st.job(run_id)  # 404 for an unknown run
        page = request.app.state.templates.env.get_template("report_stopped.html.j2")
        return HTMLResponse(page.render(job=job, error=st.redact(job.error, run_id), page="runs"))
    html = st.run_file(run_id, path).read_text(encoding="utf-8")
    return HTMLResponse(with_studio_link(html, run_id if st.store.get(run_id) else None))


def with_studio_link(html: str, run_id: str | None) -> str:
    """The report as the studio serves it: a link back to the run's page (a run the studio queued) and
    to the run list at the top; the file on disk stays a stand-alone report."""
    back = f'<a id="studio-link" href="/ui/runs/{run_id}">← back to this run in the studio</a> · ' if run_id else ""
    link = ('<p class="studio-back" style="margin:0;padding:8px 24px;background:#f1f3f5;font:14px system-ui,sans-serif">'
            f'{back}<a id="studio-runs-link" href="/ui/runs">all runs in the studio</a></p>')
    at = html.find(">", html.find("<body")) + 1 if "<body" in html else 0
    return html[:at] + link + html[at:]


@router.get("/media", tags=["library"])
def media(request: Request) -> list[dict]:
    """Films in the media library (paths.media_roots): the name to pass as `film`, and its size."""
    return [{"name": f["name"], "size_mb": f["size_mb"]} for f in library_films(studio(request).settings)]


@router.get("/healthz", tags=["server"])
def health(request: Request) -> dict[str, Any]:
    jobs = studio(request).store.list(1000)
    return {"ok": True, "queued": sum(j.status == "queued" for j in jobs),
            "running": sum(j.status == "running" for j in jobs)}

