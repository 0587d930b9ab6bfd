"""Worker threads that take queued jobs and run them through the same `Agent` the CLI uses.

Up to `studio.workers` runs execute at once. A run is GPU-heavy when it will make a model resident
that the hardware profile accounts VRAM for (on `cpu-only` nothing is); GPU-heavy runs take the
one GPU lane, so only one of them executes at a time — the scheduler inside each run still
enforces LLM XOR SDXL and the VRAM budget for everything the run loads. A new run learns what it
needs at its plan (the worker holds the graph there until the lane is free); an in-process
local LLM, or a resumed run whose plan is on disk, takes the lane from the start.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.studio.events import compact
from agent.studio.hub import EventHub
from agent.studio.jobs import Job, JobStore
from tools.core import child_processes as children
from tools.core.settings import Settings
from tools.core.settings.loader import resolve_path

log = logging.getLogger("animstudio.studio")


def job_settings(base: Settings, job: Job) -> Settings:
    """The settings a job runs with: the server's, with the job's LLM backend and strategy."""
    updates: dict[str, Any] = {}
    if job.llm:
        updates["llm"] = base.llm.model_copy(update={"backend": job.llm})
    if job.strategy:
        updates["agent"] = base.agent.model_copy(update={"strategy": job.strategy})
    return base.model_copy(update=updates) if updates else base


def gpu_resources(settings: Settings) -> set[str]:
    """Resources whose residency costs VRAM under this hardware profile (empty on cpu-only)."""
    from tools.core.scheduler.factory import resolve_profile

    profile, _device, _why = resolve_profile(settings)
    if not profile.accounts_vram:
        return set()
    return {name for name, res in profile.resources.items() if res.vram_gb > 0}


def plan_resources(plan: dict) -> set[str]:
    return {r for step in plan.get("steps", []) for r in step.get("resources", [])}


class RunCancelled(Exception):
    """Raised in a worker when the person cancelled its run: the graph stops at the next event."""


class GpuLane:
    """At most one GPU-heavy run at a time; a run enters once and leaves when it ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holder: str | None = None

    def enter(self, run_id: str, on_wait: Callable[[], None], cancelled: threading.Event | None = None) -> None:
        if self.holder == run_id:
            return
        if not self._lock.acquire(blocking=False):
            on_wait()
            while not self._lock.acquire(timeout=0.2):
                if cancelled is not None and cancelled.is_set():
                    raise RunCancelled(run_id)
        self.holder = run_id

    def leave(self, run_id: str) -> None:
        if self.holder == run_id:
            self.holder = None
            self._lock.release()


class Executor:
    def __init__(self, settings: Settings, store: JobStore, hub: EventHub,
                 make_agent: Callable[[Settings], Any] | None = None,
                 redact: Callable[[str | None, str], str | None] = lambda text, _run_id: text):
        self.settings = settings
        self.store = store
        self.hub = hub
        self.make_agent = make_agent or _default_agent
        self.redact = redact  # messages for clients: no server paths
        self.lane = GpuLane()
        self._cancels: dict[str, threading.Event] = {}
        self._cancels_lock = threading.Lock()
        self._wakeup = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for n in range(self.settings.studio.workers):
            thread = threading.Thread(target=self._loop, name=f"studio-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wakeup.set()
        for thread in self._threads:
            thread.join(timeout)

    def wake(self) -> None:
        self._wakeup.set()

    def _cancel_event(self, run_id: str) -> threading.Event:
        with self._cancels_lock:
            return self._cancels.setdefault(run_id, threading.Event())

    def cancel(self, run_id: str) -> list[int]:
        """Stop a running run: its children are killed now, its graph at its next event."""
        self._cancel_event(run_id).set()
        return children.cancel_scope(run_id)

    def forget_cancel(self, run_id: str) -> None:
        """A cancelled run is queued again (resume): let it run."""
        with self._cancels_lock:
            self._cancels.pop(run_id, None)
        children.forget_scope(run_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            job = self.store.claim()
            if job is None:
                self._wakeup.wait(0.5)
                self._wakeup.clear()
                continue
            self.run_job(job)
            self._wakeup.set()  # another worker may take the next job now

    def _status(self, run_id: str, status: str, **extra: Any) -> None:
        self.hub.publish(run_id, {"type": "status", "status": status, **extra})

    def run_job(self, job: Job) -> None:
        settings = job_settings(self.settings, job)
        run_id = job.run_id
        cancelled = self._cancel_event(run_id)
        film = Path(job.film).name if job.film else None
        self._status(run_id, "running", kind=job.kind, film=film)
        heavy = gpu_resources(settings)

        def take_lane() -> None:
            self.lane.enter(run_id, lambda: self._status(run_id, "waiting_for_gpu"), cancelled)
            self._status(run_id, "running", gpu=True)

        def on_event(event: dict) -> None:
            if cancelled.is_set():
                raise RunCancelled(run_id)
            is_plan = event.get("type") == "node" and event.get("node") == "plan"
            if is_plan and plan_resources((event.get("update") or {}).get("plan") or {}) & heavy:
                take_lane()  # the graph waits here, before its first tool runs
            small = compact(event, film) if event.get("type") != "result" else None  # published once, below
            if small is not None:
                if small.get("text"):
                    small["text"] = self.redact(small["text"], run_id)
                self.hub.publish(run_id, small)

        started = time.perf_counter()
        result, error = None, None
        try:
            with children.scope(run_id):
                if cancelled.is_set():
                    raise RunCancelled(run_id)
                if ("llm" in heavy and settings.llm.backend == "local") or (job.kind != "run" and self._planned(run_id) & heavy):
                    take_lane()
                agent = self.make_agent(settings)
                if job.kind == "run":
                    result = agent.run(job.request, film=job.film, strategy=job.strategy, run_id=run_id,
                                       review=job.review, on_event=on_event)
                else:
                    result = agent.resume(run_id, on_event=on_event, review=job.decision)
        except children.Cancelled:  # a child of this run was stopped by the cancel: the step stays unfinished
            cancelled.set()
        except Exception as exc:  # the message goes to the page; the run stays resumable from its checkpoint
            from agent.api import AgentInputError

            if isinstance(exc, AgentInputError):
                error = str(exc)
            elif not cancelled.is_set():
                error = f"{type(exc).__name__}: {exc}"
                log.exception("run %s failed", run_id)
        finally:
            self.lane.leave(run_id)
        seconds = round(job.seconds + time.perf_counter() - started, 3)
        if cancelled.is_set():  # whatever the graph did after the cancel (a failed step, an end) is not the outcome
            note = "stopped by a person; Resume continues it from its last checkpoint"
            self.store.update(run_id, status="cancelled", error=note, seconds=seconds, finished=time.time(),
                              decision=None, pending_review=None)
            self._status(run_id, "cancelled", note=note)
            return
        if result is None:
            error = self.redact(error, run_id)
            self.store.update(run_id, status="error", error=error, seconds=seconds, finished=time.time(), decision=None)
            self._status(run_id, "error", error=error)
            return
        self.hub.publish(run_id, {"type": "result", "result": self.redact_result(result.summary_json(), run_id)})
        self.store.update(run_id, status=result.status, result=result.summary_json(), score=result.score,
                          pending_review=result.review or result.question, error=None, seconds=seconds,
                          decision=None, finished=None if (result.review or result.question) else time.time())
        self._status(run_id, result.status, score=result.score)

    def redact_result(self, summary: dict, run_id: str) -> dict:
        """The result as clients see it (the stored one keeps its paths: the pages find the video by them)."""
        shown = json.loads(self.redact(json.dumps(summary, ensure_ascii=False, default=str), run_id) or "{}")
        for key in ("run_dir", "trace", "report"):
            shown.pop(key, None)
        return shown

    def _planned(self, run_id: str) -> set[str]:
        path = resolve_path(self.settings.paths.runs_dir) / run_id / "plan.json"
        try:
            return plan_resources(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return set()


def _default_agent(settings: Settings):
    from agent.api import Agent

    return Agent(settings=settings)
