"""A film library: one dataset per film, built by the same stage functions as `dataset run`.

A library run is a list of `FilmJob`s and a `StageHost` that runs one stage of one film. The
executor only decides where a host runs: the local executor keeps one host in this process and
goes film by film; the Ray executor (ray_library.py) runs CPU stages as Ray tasks and model stages
(identity, captioning) on long-lived actors that load their model once for the whole library.
Each film's metadata.json is the same either way, and resumes per item on a re-run.
"""
from __future__ import annotations

import glob
import logging
import os
import re
import socket
import time
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.core.context import ToolContext, make_context
from tools.core.scheduler import InProcessHandle
from tools.core.types import ToolError
from tools.core.workspace import Workspace
from tools.dataset.metadata import DatasetStore
from tools.dataset.pipeline import stage_range

VIDEO_EXTS = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts"}
# Model stages run on hosts that keep their model loaded between films (value: the actor kind).
MODEL_STAGES = {"characters": "identity", "caption": "captioner"}
IDENTITY_RESOURCE = "identity"  # the scheduler resource (VRAM estimate in configs/hardware/*.yaml)
GPU_STAGES = {"train", "infer"}  # hold `sdxl` through the registry's scheduler
Executor = Literal["local", "ray"]
ProgressSink = Callable[[str, dict[str, Any]], None]  # (dataset name, progress event)

log = logging.getLogger("animstudio.dataset.library")


class FilmJob(BaseModel):
    film: Path
    name: str  # the dataset: datasets/<name>/
    refs: Path | None = None
    stages: list[str]
    characters: list[str] | None = None
    max_steps: int | None = None


class StageReport(BaseModel):
    """What one stage of one film did, and where it ran."""

    stage: str
    ok: bool
    summary: str = ""
    counts: dict[str, int] = Field(default_factory=dict)
    redone: int = 0
    reused: int = 0
    seconds: float = 0.0
    error: str = ""
    hint: str = ""
    host: str = ""  # machine name
    node: str = ""  # Ray node id ("" when local)
    worker: str = ""  # "task", "actor:<kind>" or "local"
    frames: int = 0  # extract: frames decoded (the film's length), for throughput
    model_loads: int = 0  # characters: identity models this host has built so far (1 = loaded once)


class FilmOutcome(BaseModel):
    film: str
    name: str
    ok: bool = False
    stages: list[StageReport] = Field(default_factory=list)
    seconds: float = 0.0  # time its stages took (what the film cost, wherever it ran)
    finished_after: float = 0.0  # seconds from the start of the library run until this film was done
    frames: int = 0  # frames decoded (the film's length), for throughput
    error: str = ""
    hint: str = ""

    @property
    def failed_stage(self) -> str | None:
        return next((s.stage for s in self.stages if not s.ok), None)


class LibraryReport(BaseModel):
    executor: Executor
    address: str = ""
    nodes: int = 1
    seconds: float = 0.0
    startup_seconds: float = 0.0  # connecting to / starting Ray
    films: list[FilmOutcome] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.films)


# -- planning ------------------------------------------------------------------------------------
def discover_films(spec: str | Path) -> list[Path]:
    """A folder (its video files, not recursive) or a glob (`films/*.mkv`, `library/**/*.mp4`)."""
    text = os.path.expanduser(str(spec))
    path = Path(text)
    if path.is_dir():
        films = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTS]
        if not films:
            raise ToolError(f"No video files in {path}", f"put films there ({', '.join(sorted(VIDEO_EXTS))})")
    elif any(ch in text for ch in "*?["):
        films = [Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file()]
        if not films:
            raise ToolError(f"No files match {text!r}", "check the pattern; quote it so the shell does not expand it")
    elif path.is_file():
        films = [path]
    else:
        raise ToolError(f"Film folder or pattern not found: {text}", "give a folder of films or a glob such as 'films/*.mp4'")
    return sorted(p.resolve() for p in films)


def dataset_name_for(film: Path, taken: set[str]) -> str:
    """The film's file name as a dataset name (ASCII letters, digits, '_', '-', '.'), made unique."""
    ascii_stem = unicodedata.normalize("NFKD", film.stem).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_stem).strip("._-")[:72] or "film"
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name.lower())
    return name


def plan_library(films: list[Path], refs: Path | None, start: str | None, until: str | None,
                 characters: list[str] | None = None, max_steps: int | None = None) -> list[FilmJob]:
    stages = stage_range(start, until)
    if refs is None and "characters" in stages:
        raise ToolError("the characters stage needs --refs (one reference folder for the whole library)",
                        "pass --refs refs/ with refs/<character>/*.png, or stop earlier with --until filter")
    taken: set[str] = set()
    return [FilmJob(film=f, name=dataset_name_for(f, taken), refs=refs, stages=stages, characters=characters,
                    max_steps=max_steps) for f in films]


# -- running one stage -----------------------------------------------------------------------------
class _Throttled:
    """Forwards a stage's progress events to the sink, at most a few per second per bar."""

    def __init__(self, name: str, sink: ProgressSink, every_s: float = 0.25):
        self.name, self.sink, self.every_s = name, sink, every_s
        self.last: dict[str, float] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        now = time.monotonic()
        key = event["description"]
        final = event.get("done") or (event.get("total") and event["completed"] >= event["total"])
        if final or now - self.last.get(key, 0.0) >= self.every_s:
            self.last[key] = now
            self.sink(self.name, event)


class ModelCache:
    """Models a host keeps loaded between films (key → model), counting how many it has built."""

    def __init__(self) -> None:
        self.models: dict[Any, Any] = {}
        self.loads = 0

    def get(self, key: Any, build: Callable[[], Any]) -> Any:
        if key not in self.models:
            self.models[key] = build()
            self.loads += 1
        return self.models[key]


class StageHost:
    """Runs stages of films with the stage functions of `dataset run`; model stages keep their model.

    The characters stage finds its identity backend in a ModelCache (ctx.extras["model_cache"]),
    so it is built once for the whole library. The cache is the scheduler's `identity` resource:
    held while a film is matched, and dropped (memory freed) when another process on the machine
    needs the card for a model that does not fit beside it.
    """

    def __init__(self, settings, run_id: str, ctx: ToolContext | None = None, worker: str = "local"):
        if ctx is None:
            settings = _for_workers(settings)
            ctx = make_context(settings, Workspace.create(_runs_dir(settings), run_id=run_id,
                                                          media_roots=_media_roots(settings)))
        self.ctx, self.worker = ctx, worker
        self.identity = InProcessHandle(loader=ModelCache, name="identity models")
        ctx.scheduler.register(IDENTITY_RESOURCE, self.identity)

    def run(self, job: FilmJob, stage: str, sink: ProgressSink | None = None) -> StageReport:
        from tools.core.progress import CallbackProgress
        from tools.dataset.pipeline import run_pipeline

        progress = CallbackProgress()
        if sink is not None:
            progress.listeners.append(_Throttled(job.name, sink))
        ctx = replace(self.ctx, progress=progress, extras=dict(self.ctx.extras))
        ctx.workspace.allow_file(job.film)
        report = StageReport(stage=stage, ok=False, worker=self.worker, **_where())
        start = time.perf_counter()
        try:
            if stage == "characters":
                with ctx.scheduler.use(IDENTITY_RESOURCE, reason=f"dataset {job.name}: characters"):
                    ctx.extras["model_cache"] = cache = self.identity.model
                    results = self._run(run_pipeline, ctx, job, stage)
                    report.model_loads = cache.loads
            else:
                results = self._run(run_pipeline, ctx, job, stage)
        except ToolError as exc:
            report.error, report.hint = exc.message, exc.hint
        except Exception as exc:  # noqa: BLE001 - one film's bug must not stop the library
            log.error("%s: %s failed\n%s", job.name, stage, traceback.format_exc())
            report.error = f"{type(exc).__name__}: {exc}"
        else:
            report.ok = True
            if stage == "extract":
                report.frames = int(DatasetStore.open(ctx.settings, job.name).meta.outputs.get("frame_count", 0))
            report.summary = "; ".join(_summary(r) for r in results)
            for r in results:
                report.counts.update(getattr(r, "counts", {}) or {})
                report.redone += getattr(r, "redone", 0)
                report.reused += getattr(r, "reused", 0)
        report.seconds = round(time.perf_counter() - start, 3)
        return report

    @staticmethod
    def _run(run_pipeline, ctx: ToolContext, job: FilmJob, stage: str) -> list:
        return run_pipeline(ctx, job.name, film=job.film, refs=job.refs, start=stage, until=stage,
                            characters=job.characters, max_steps=job.max_steps)


def _summary(result) -> str:
    s = getattr(result, "summary", "")
    return s() if callable(s) else str(s)


def _where() -> dict[str, str]:
    node = ""
    try:
        import ray

        if ray.is_initialized():
            node = ray.get_runtime_context().get_node_id()
    except ImportError:
        pass
    return {"host": socket.gethostname(), "node": node}


def _for_workers(settings):
    """Per-item work inside a Ray task or actor uses threads: Ray already runs one process per CPU."""
    if settings.dataset.executor == "process":
        ds = settings.dataset.model_copy(update={"executor": "thread"})
        settings = settings.model_copy(update={"dataset": ds})
    return settings


def _runs_dir(settings) -> Path:
    from tools.core.settings.loader import resolve_path

    return resolve_path(settings.paths.runs_dir)


def _media_roots(settings) -> list[Path]:
    from tools.core.settings.loader import resolve_path

    return [resolve_path(p) for p in settings.paths.media_roots]


def decisions(settings, name: str) -> dict[str, Any]:
    """What a user would call a film's decisions in metadata.json: per frame the scene, every stage's
    status/reason/scores, detections and caption; the scenes, characters and stage counts. No timings,
    paths or cache keys, so two executors' runs of one film can be compared."""
    meta = DatasetStore.open(settings, name, create=False).meta
    items = {key: {"frame": it.frame_index, "scene": it.scene, "sources": it.sources, "caption": it.caption,
                   "detections": [d.model_dump(mode="json") for d in it.detections],
                   "stages": {s: r.model_dump(mode="json", include={"status", "reason", "scores"})
                              for s, r in it.stages.items()}}
             for key, it in meta.items.items()}
    return {"items": items, "scenes": meta.scenes, "characters": {n: c.trigger for n, c in meta.characters.items()},
            "counts": {s: (st.counts, st.reasons) for s, st in meta.stages.items()}}


# -- the executors -----------------------------------------------------------------------------------
class FilmTracker:
    """Collects each film's stage reports into FilmOutcomes (shared by both executors)."""

    def __init__(self, jobs: list[FilmJob]):
        self.jobs = {j.name: j for j in jobs}
        self.outcomes = {j.name: FilmOutcome(film=str(j.film), name=j.name) for j in jobs}
        self.start = time.perf_counter()

    def record(self, name: str, report: StageReport) -> str | None:
        """Store a stage's report; the film's next stage, or None when the film is finished."""
        out = self.outcomes[name]
        out.stages.append(report)
        out.seconds = round(out.seconds + report.seconds, 3)
        out.finished_after = round(time.perf_counter() - self.start, 3)
        job = self.jobs[name]
        if not report.ok:
            out.error, out.hint = f"{report.stage}: {report.error}", report.hint
            return None
        out.frames = max(out.frames, report.frames)
        i = job.stages.index(report.stage) + 1
        if i < len(job.stages):
            return job.stages[i]
        out.ok = True
        return None


def run_local(settings, jobs: list[FilmJob], ctx: ToolContext, sink: ProgressSink | None = None,
              on_stage: Callable[[str, StageReport], None] | None = None) -> list[FilmOutcome]:
    """The local executor: one host in this process, films one after another."""
    host = StageHost(settings, ctx.workspace.run_id, ctx=ctx, worker="local")
    tracker = FilmTracker(jobs)
    for job in jobs:
        stage: str | None = job.stages[0]
        while stage is not None:
            report = host.run(job, stage, sink)
            if on_stage:
                on_stage(job.name, report)
            stage = tracker.record(job.name, report)
    return list(tracker.outcomes.values())
