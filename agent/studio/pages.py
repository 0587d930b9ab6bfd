"""The studio's run pages: a new request, the live run (htmx + server-sent HTML fragments), the run list.

Pages are server-rendered Jinja; the live view subscribes to `/ui/runs/{id}/live`, whose events carry
ready-made HTML for the parts that changed (htmx's SSE extension swaps them in), so no JavaScript of
our own and no build step.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from agent.studio.answer import outcome
from agent.studio.api_routes import existing_job, run_request_from, studio
from agent.studio.jobs import TERMINAL, Job
from agent.studio.run_view import RunView, fold
from agent.studio.service import StudioError, final_video, poster_image
from agent.studio.uploads import library_films

router = APIRouter(include_in_schema=False)
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.ico"


def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, name, context, status_code=status_code)


def _fragment(request: Request, name: str, **context: Any) -> str:
    return request.app.state.templates.env.get_template(name).render(**context)


def _backends(request: Request) -> list[str]:
    settings = studio(request).settings
    return ["local", "openai"] + (["fake"] if settings.llm.fake.script or settings.llm.backend == "fake" else [])


def _new_page(request: Request, form: dict | None = None, error: str | None = None, status_code: int = 200):
    st = studio(request)
    return _render(request, "new.html.j2", status_code, page="new", films=library_films(st.settings), form=form or {},
                   error=error, backends=_backends(request), default_llm=st.settings.llm.backend,
                   default_strategy=st.settings.agent.strategy, max_upload_mb=st.settings.studio.max_upload_mb)


@router.get("/", response_class=HTMLResponse)
def new_request(request: Request):
    return _new_page(request)


@router.post("/ui/runs")
async def submit_form(request: Request):
    st = studio(request)
    try:
        req = await run_request_from(request, st)
        job = st.submit([st.job_for(req)])[0]
    except StudioError as exc:
        try:
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        except Exception:  # the body could not be read (e.g. over the size limit)
            form = {}
        message = exc.detail if isinstance(exc.detail, str) else "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}" for e in exc.detail)
        return _new_page(request, form, message, exc.status)
    return RedirectResponse(f"/ui/runs/{job.run_id}", status_code=303)


@router.get("/ui/runs", response_class=HTMLResponse)
def run_list(request: Request):
    return _render(request, "runs.html.j2", page="runs", runs=studio(request).runs())


def _view(request: Request, job: Job) -> RunView:
    st = studio(request)
    view = fold(job.run_id, st.store.events(job.run_id))
    for event in st.hub.progress(job.run_id):
        view.apply(event)
    view.status = job.status
    return view


@router.get("/ui/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request):
    job = existing_job(run_id, request)
    view = _view(request, job)
    return _render(request, "run.html.j2", page="runs", job=job, view=view, live=job.status not in TERMINAL,
                   video=final_video(job.result), poster=poster_image(job.result), outcome=_outcome(request, job))


def _outcome(request: Request, job: Job) -> dict[str, Any]:
    st = studio(request)
    return outcome(job, lambda text: st.redact(text, job.run_id))


@router.get("/ui/runs/{run_id}/live", response_class=EventSourceResponse)
async def live(request: Request, job: Annotated[Job, Depends(existing_job)], after: int = 0) -> AsyncIterator[ServerSentEvent]:
    """HTML fragments for the live page: log, plan, progress, status, and `end` with the outcome."""
    st = studio(request)
    run_id = job.run_id
    view = _view(request, job)
    async for event in st.hub.follow(run_id, after):
        for part in sorted(view.apply(event)):
            if part == "log":
                yield ServerSentEvent(raw_data=_fragment(request, "_log_line.html.j2", line=view.log[-1]), event="log")
            elif part in ("plan", "progress", "status"):
                yield ServerSentEvent(raw_data=_fragment(request, f"_{part}.html.j2", view=view), event=part)
    job = st.job(run_id)
    yield ServerSentEvent(raw_data=_fragment(request, "_outcome.html.j2", job=job, video=final_video(job.result),
                                             poster=poster_image(job.result), outcome=_outcome(request, job)),
                          event="end")


def _decision(form) -> dict[str, Any]:
    decision: dict[str, Any] = {"action": form.get("action") or "approve", "note": form.get("note") or ""}
    if decision["action"] == "edit":
        if form.get("scene") not in (None, ""):
            decision["scene"] = int(form["scene"]) if str(form["scene"]).lstrip("-").isdigit() else form["scene"]
        else:
            pairs = zip(form.getlist("character"), form.getlist("text"))
            decision["lines"] = [{"character": c.strip() or "Narrator", "text": t.strip()} for c, t in pairs if t.strip()]
            decision["title"] = form.get("title") or None
    return decision


@router.post("/ui/runs/{run_id}/review")
async def review_form(run_id: str, request: Request):
    st = studio(request)
    form = await request.form()
    decision = _decision(form)
    try:
        st.review(run_id, decision)
    except StudioError as exc:
        if exc.status != 422:
            raise
        job = st.job(run_id)  # show the form again with what is wrong, and with what the person typed
        edited = None
        if decision["action"] == "edit" and "lines" in decision:
            edited = {"title": decision.get("title") or "", "note": decision.get("note") or "",
                      "lines": [{"character": c.strip(), "text": t.strip()}
                                for c, t in zip(form.getlist("character"), form.getlist("text")) if t.strip()]}
        return HTMLResponse(_fragment(request, "_review.html.j2", job=job, error=exc.detail, edited=edited),
                            status_code=200)
    return Response(status_code=204, headers={"HX-Redirect": f"/ui/runs/{run_id}"})


@router.post("/ui/runs/{run_id}/input")
async def question_form(run_id: str, request: Request):
    """The question form: an option picked, or a typed answer."""
    st = studio(request)
    form = await request.form()
    option, value = str(form.get("option") or ""), str(form.get("value") or "").strip()
    try:
        st.answer(run_id, {"value": value} if value else {"option": option})
    except StudioError as exc:
        if exc.status != 422:
            raise
        return HTMLResponse(_fragment(request, "_question.html.j2", job=st.job(run_id), error=exc.detail),
                            status_code=200)
    return Response(status_code=204, headers={"HX-Redirect": f"/ui/runs/{run_id}"})


@router.post("/ui/runs/{run_id}/resume")
def resume_button(run_id: str, request: Request):
    studio(request).resume(run_id)
    return Response(status_code=204, headers={"HX-Redirect": f"/ui/runs/{run_id}"})


@router.post("/ui/runs/{run_id}/cancel")
def cancel_button(run_id: str, request: Request):
    studio(request).cancel(run_id)
    return Response(status_code=204, headers={"HX-Redirect": f"/ui/runs/{run_id}"})


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(FAVICON, media_type="image/x-icon")
