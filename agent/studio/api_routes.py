"""The HTTP API (OpenAPI at /docs): runs, their events (SSE), resume, review, batches, files."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ValidationError
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


def studio(request: Request) -> Studio:
    return request.app.state.studio


def existing_job(run_id: str, request: Request) -> Job:
    return studio(request).job(run_id)  # StudioError(404) before any response starts


def _created(job: Job) -> RunCreated:
    return RunCreated(run_id=job.run_id, status=job.status,
                      links={"self": f"/runs/{job.run_id}", "events": f"/runs/{job.run_id}/events",
                             "page": f"/ui/runs/{job.run_id}"})


def parse_run_request(fields: dict[str, Any]) -> RunRequest:
    try:
        return RunRequest.model_validate(fields)
    except ValidationError as exc:
        raise StudioError(422, json.loads(exc.json(include_url=False))) from None


async def run_request_from(request: Request, st: Studio) -> RunRequest:
    """A RunRequest from JSON, or from a multipart form with an optional uploaded film."""
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form(max_files=1, max_fields=20)
        fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
        fields["review"] = fields.get("review", "").lower() in ("1", "true", "on", "yes")
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            try:
                fields["film"] = str(await run_in_threadpool(store_upload, upload.file, upload.filename, st.settings))
            except UploadError as exc:
                raise StudioError(exc.status, str(exc)) from None
        return parse_run_request(fields)
    try:
        body = await request.json()
    except ValueError:
        raise StudioError(422, "the body is not JSON (send a RunRequest, or a multipart form)") from None
    return parse_run_request(body if isinstance(body, dict) else {"request": body})


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


@router.post("/runs/{run_id}/resume", status_code=202, response_model=RunCreated)
def resume_run(run_id: str, request: Request) -> RunCreated:
    """Continue a run that stopped (error, or cut off by a server stop) from its last checkpoint."""
    return _created(studio(request).resume(run_id))


@router.post("/runs/{run_id}/review", status_code=202, response_model=RunCreated)
def review_run(run_id: str, decision: ReviewDecision, request: Request) -> RunCreated:
    """Answer the review a run waits for: approve, edit (script lines / a scene) or reject."""
    return _created(studio(request).review(run_id, decision.model_dump(exclude_none=True)))


@router.post("/runs/{run_id}/input", status_code=202, response_model=RunCreated)
def answer_run(run_id: str, answer: InputAnswer, request: Request) -> RunCreated:
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


@router.get("/runs/{run_id}/files/{path:path}")
def run_file(run_id: str, path: str, request: Request) -> FileResponse:
    """A file of the run folder (the report, the video, keyframes); nothing outside it."""
    st = studio(request)
    if path == "report.html":
        _ensure_report(st, run_id)
    return FileResponse(st.run_file(run_id, path))


@router.get("/media", tags=["library"])
def media(request: Request) -> list[dict]:
    """Films in the media library (paths.media_roots), with the name to pass as `film`."""
    return library_films(studio(request).settings)


@router.get("/healthz", tags=["server"])
def health(request: Request) -> dict[str, Any]:
    jobs = studio(request).store.list(1000)
    return {"ok": True, "queued": sum(j.status == "queued" for j in jobs),
            "running": sum(j.status == "running" for j in jobs)}


def _ensure_report(st: Studio, run_id: str) -> None:
    folder = st.run_dir(run_id)
    report = folder / "report.html"
    if folder.is_dir() and not report.exists():
        from agent.report import render_report

        render_report(folder)
