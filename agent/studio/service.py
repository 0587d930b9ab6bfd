"""What the pages and the HTTP API both do: queue runs, continue them, answer reviews, describe them."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.studio.executor import Executor
from agent.studio.hub import EventHub
from agent.studio.jobs import CANCELLABLE, RESUMABLE, Job, JobStore
from agent.studio.security import ClientPathError, inside, is_run_id, library_file, redact_paths
from agent.studio.uploads import VIDEO_SUFFIXES
from tools.core.settings import Settings
from tools.core.settings.loader import resolve_path
from tools.core.workspace import new_run_id


class RunRequest(BaseModel):
    """One request to the agent, as `POST /runs` and each line of `POST /batches` take it."""

    model_config = ConfigDict(extra="forbid")
    request: str = Field(min_length=1, max_length=4000, description="what you want, in plain words")
    film: str | None = Field(None, max_length=1000,
                             description="a film in the media library: its path relative to a media root")
    strategy: Literal["react", "cot", "tot"] | None = None
    llm: Literal["local", "openai", "fake"] | None = Field(None, description="LLM backend (default llm.backend)")
    review: bool = Field(False, description="pause for approve/edit/reject at the workflow's review points")


class StudioError(Exception):
    """An answer for the client: HTTP status and detail (a message, or a list of problems)."""

    def __init__(self, status: int, detail: Any):
        super().__init__(detail if isinstance(detail, str) else json.dumps(detail))
        self.status = status
        self.detail = detail


class Studio:
    """The server's state: settings, the queue, the live events and the workers."""

    def __init__(self, settings: Settings, make_agent=None):
        self.settings = settings
        self.store = JobStore(resolve_path(settings.studio.queue_db))
        self.hub = EventHub(self.store)
        self.runs_dir = resolve_path(settings.paths.runs_dir)
        self.media_roots = [resolve_path(p) for p in settings.paths.media_roots]
        self.executor = Executor(settings, self.store, self.hub, make_agent, redact=self.redact)

    def start(self) -> list[str]:
        recovered = self.store.recover(resume=self.settings.studio.resume_interrupted)
        for run_id in recovered:
            self.hub.publish(run_id, {"type": "status", "status": "queued" if self.settings.studio.resume_interrupted
                                      else "interrupted", "note": "the server restarted during this run"})
        self.executor.start()
        return recovered

    def stop(self) -> None:
        self.executor.stop()

    # -- actions ----------------------------------------------------------------------------------------
    def check(self, req: RunRequest) -> str:
        """Refuse what cannot run before it is queued; returns the request text as the agent takes it."""
        from agent.api import AgentInputError, check_request

        try:
            text = check_request(req.request)
        except AgentInputError as exc:
            raise StudioError(422, str(exc)) from None
        if (req.llm or self.settings.llm.backend) == "fake" and not self.settings.llm.fake.script:
            raise StudioError(422, "the fake LLM answers from a script and this server has none "
                                   "(llm.fake.script): choose another LLM backend")
        return text

    def film_path(self, name: str) -> Path:
        """The film a client names: a video file of the media library."""
        try:
            path = library_file(self.media_roots, name)
        except ClientPathError as exc:
            raise StudioError(400, str(exc)) from None
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise StudioError(415, f"film {name!r} is not a video file (expected one of {sorted(VIDEO_SUFFIXES)}; "
                                   "GET /media lists the films)")
        return path

    def film_name(self, path: Path | str | None) -> str | None:
        """How a client sees a film: its path inside the media root that holds it."""
        if not path:
            return None
        path = Path(path)
        for root in self.media_roots:
            if root.resolve() in path.parents:
                return str(path.relative_to(root.resolve()))
        return path.name

    def job_for(self, req: RunRequest, batch_id: str | None = None) -> Job:
        text = self.check(req)
        film = str(self.film_path(req.film)) if req.film else None
        return Job(run_id=new_run_id(), request=text, film=film, strategy=req.strategy, llm=req.llm,
                   review=req.review, batch_id=batch_id)

    def submit(self, jobs: list[Job]) -> list[Job]:
        self.store.add(jobs)
        for job in jobs:
            self.hub.publish(job.run_id, {"type": "status", "status": "queued", "request": job.request})
        self.executor.wake()
        return jobs

    def submit_batch(self, lines: list[str]) -> tuple[str, list[Job]]:
        """Queue one run per JSONL line, all or none: a bad line is reported with its number."""
        if len(lines) > self.settings.studio.max_batch_lines:
            raise StudioError(413, f"the batch has {len(lines)} lines; the limit is "
                                   f"{self.settings.studio.max_batch_lines} (studio.max_batch_lines)")
        batch_id = "batch-" + uuid.uuid4().hex[:10]
        jobs, problems = [], []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
                if not isinstance(fields, dict):
                    raise StudioError(422, f"a JSON {type(fields).__name__}, not an object")
                jobs.append(self.job_for(RunRequest.model_validate(fields), batch_id))
            except json.JSONDecodeError as exc:
                problems.append({"line": number, "error": f"not JSON: {exc.msg}"})
            except RecursionError:
                problems.append({"line": number, "error": "the JSON is nested too deeply"})
            except StudioError as exc:
                problems.append({"line": number, "error": str(exc)})
            except ValueError as exc:  # pydantic's ValidationError
                problems.append({"line": number, "error": _first_error(exc)})
        if problems:
            raise StudioError(422, problems)
        if not jobs:
            raise StudioError(422, "the batch has no requests (one JSON object per line)")
        return batch_id, self.submit(jobs)

    def resume(self, run_id: str) -> Job:
        job = self.job(run_id)
        if job.status == "awaiting_review":
            raise StudioError(409, f"run {run_id} waits for a review: POST /runs/{run_id}/review")
        if job.status == "needs_input":
            raise StudioError(409, f"run {run_id} waits for input: POST /runs/{run_id}/input")
        if job.status not in RESUMABLE:
            raise StudioError(409, f"run {run_id} is {job.status}; only a run that stopped ({', '.join(RESUMABLE)}) "
                                   "can be resumed")
        kind = "resume" if job.started is not None else "run"  # cancelled before it started: run it now
        self.executor.forget_cancel(run_id)
        self.store.requeue(run_id, kind)
        self.hub.publish(run_id, {"type": "status", "status": "queued", "resume": kind == "resume"})
        self.executor.wake()
        return self.job(run_id)

    def cancel(self, run_id: str) -> Job:
        """Stop a queued or running run; it ends `cancelled` and may be resumed."""
        job = self.job(run_id)
        if job.status not in CANCELLABLE:
            raise StudioError(409, f"run {run_id} is {job.status}; only a queued or running run can be cancelled"
                              + (" (reject the review instead)" if job.status == "awaiting_review" else ""))
        if not self.store.cancel_queued(run_id):  # it was already running: its worker stops it
            self.executor.cancel(run_id)
        else:
            self.hub.publish(run_id, {"type": "status", "status": "cancelled", "note": "cancelled before it started"})
        return self.job(run_id)

    def review(self, run_id: str, decision: dict[str, Any]) -> Job:
        from agent.nodes.review import ReviewError, check_decision

        job = self.job(run_id)
        if job.status != "awaiting_review" or not job.pending_review:
            raise StudioError(409, f"run {run_id} is {job.status}, not waiting for a review")
        try:
            parsed = check_decision(job.pending_review, decision)
        except ReviewError as exc:
            raise StudioError(422, str(exc)) from None
        self.store.update(run_id, pending_review=None)
        self.store.requeue(run_id, "review", parsed.model_dump(exclude_none=True))
        self.hub.publish(run_id, {"type": "status", "status": "queued", "decision": parsed.action})
        self.executor.wake()
        return self.job(run_id)

    def answer(self, run_id: str, answer: dict[str, Any]) -> Job:
        """Answer the question a run waits for (needs_input); checked in full before the run is queued again."""
        from agent.planning.questions import AnswerError, resolve_answer
        from agent.planning.routing.reading import datasets

        job = self.job(run_id)
        if job.status != "needs_input" or not job.pending_review:
            raise StudioError(409, f"run {run_id} is {job.status}, not waiting for input")
        try:
            parsed, _ = resolve_answer(job.pending_review, answer, job.request, datasets(self.settings))
        except (AnswerError, ValueError) as exc:
            raise StudioError(422, str(exc).splitlines()[0]) from None
        self.store.update(run_id, pending_review=None)
        self.store.requeue(run_id, "review", parsed.model_dump(exclude_none=True))
        self.hub.publish(run_id, {"type": "status", "status": "queued", "answer": parsed.option or "value"})
        self.executor.wake()
        return self.job(run_id)

    # -- views ------------------------------------------------------------------------------------------
    def job(self, run_id: str) -> Job:
        job = self.store.get(run_id)
        if job is None:
            raise StudioError(404, f"no run {run_id!r}")
        return job

    def run_dir(self, run_id: str) -> Path:
        """The folder of one run: a direct child of runs/ named by a plain run id (never `.`)."""
        try:
            if not is_run_id(run_id):
                raise ClientPathError(run_id)
            folder = inside(self.runs_dir, run_id)
        except ClientPathError:
            raise StudioError(404, f"no run {run_id[:80]!r}") from None
        if folder.parent != self.runs_dir.resolve():
            raise StudioError(404, f"no run {run_id[:80]!r}")
        return folder

    def ensure_report(self, run_id: str) -> bool:
        """Write the run's report if its folder has none yet; False when there is no run folder."""
        folder = self.run_dir(run_id)
        if not (folder / "trace.jsonl").is_file():
            return False
        if not (folder / "report.html").exists():
            from agent.report import render_report

            render_report(folder)
        return True

    def report_seconds(self, run_id: str) -> float | None:
        """The run's duration as its report states it (its trace, first event to last)."""
        from agent.report.html_report import trace_span

        span = trace_span(self.runs_dir / run_id / "trace.jsonl") if is_run_id(run_id) else None
        return round(span[1] - span[0], 1) if span else None

    def redact(self, text: str | None, run_id: str | None = None) -> str | None:
        """A message or a result for a client: paths shown inside their run folder or media root."""
        if not text:
            return text
        roots: dict[Path, str] = {root.resolve(): "" for root in self.media_roots}
        roots[self.runs_dir.resolve()] = "runs"
        if run_id and is_run_id(run_id):
            roots[(self.runs_dir / run_id).resolve()] = ""
        return redact_paths(text, roots)

    def client_result(self, result: dict[str, Any] | None, run_id: str) -> dict[str, Any] | None:
        """A result summary as a client sees it: artifact paths relative to the run folder, no server paths."""
        if not result:
            return result
        shown = self.executor.redact_result(result, run_id)
        shown["links"] = {"report": f"/runs/{run_id}/files/report.html", "files": f"/runs/{run_id}/files/"}
        return shown

    def run_file(self, run_id: str, relative: str) -> Path:
        root = self.run_dir(run_id)
        try:
            path = inside(root, relative)
        except ClientPathError as exc:
            raise StudioError(403, str(exc)) from None
        if not path.is_file():
            raise StudioError(404, f"run {run_id} has no file {relative!r}")
        return path

    def info(self, run_id: str) -> dict[str, Any]:
        job = self.job(run_id)
        data = job.model_dump(exclude={"decision"})
        data["film"] = self.film_name(job.film)
        data["error"] = self.redact(job.error, run_id)
        data["result"] = self.client_result(job.result, run_id)
        data["progress"] = [{k: e[k] for k in ("description", "completed", "total")} for e in self.hub.progress(run_id)]
        data["links"] = {"self": f"/runs/{run_id}", "events": f"/runs/{run_id}/events", "page": f"/ui/runs/{run_id}",
                         "report": f"/runs/{run_id}/files/report.html"}
        data["video"] = final_video(job.result)
        return data

    def runs(self, limit: int = 200) -> list[dict[str, Any]]:
        """Runs queued through the studio, then runs made elsewhere (CLI, notebooks) found on disk."""
        rows = [{"run_id": j.run_id, "status": j.status, "score": j.score,
                 "seconds": self.report_seconds(j.run_id) or (j.seconds or None),
                 "request": j.request, "created": j.created, "source": "studio"} for j in self.store.list(limit)]
        known = {r["run_id"] for r in rows}
        if self.runs_dir.is_dir():
            disk = sorted((p for p in self.runs_dir.iterdir() if p.is_dir() and p.name not in known
                           and not p.name.startswith(DRY_RUN_PREFIXES) and (p / "result.json").exists()),
                          key=lambda p: p.stat().st_mtime, reverse=True)
            for folder in disk[: max(0, limit - len(rows))]:
                rows.append({**_disk_row(folder), "seconds": self.report_seconds(folder.name)})
        return sorted(rows, key=lambda r: r["created"] or 0, reverse=True)


DRY_RUN_PREFIXES = ("plan-", "tool-")  # `animstudio plan` / `tools call` folders: no run to list


def poster_image(summary: dict | None) -> str | None:
    """A still for the video player: the first scene keyframe the run produced."""
    for art in (summary or {}).get("artifacts", []):
        path = Path(art["path"])
        if art.get("kind") == "image" and "scene" in path.name:
            run_dir = Path(summary.get("run_dir", ""))
            return str(path.relative_to(run_dir)) if path.is_absolute() and run_dir in path.parents else str(path)
    return None


def final_video(summary: dict | None) -> str | None:
    """The run-relative path of the finished video in a result summary, if any."""
    if not summary:
        return None
    videos = [a for a in summary.get("artifacts", []) if a.get("kind") == "video"]
    final = next((a for a in reversed(videos) if (a.get("metadata") or {}).get("final")), videos[-1] if videos else None)
    if final is None:
        return None
    path = Path(final["path"])
    run_dir = Path(summary.get("run_dir", ""))
    return str(path.relative_to(run_dir)) if path.is_absolute() and run_dir in path.parents else str(path)


def _disk_row(folder: Path) -> dict[str, Any]:
    try:
        result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = {}
    quality = result.get("quality") or []
    return {"run_id": folder.name, "status": result.get("status", "done"),
            "score": quality[-1].get("combined") if quality else None, "seconds": None,
            "request": result.get("request", ""), "created": folder.stat().st_mtime, "source": "disk"}


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        err = errors()[0]
        return f"{'.'.join(str(p) for p in err['loc']) or 'line'}: {err['msg']}"
    return str(exc)
