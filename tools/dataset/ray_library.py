"""The Ray executor of a film library: CPU stages as Ray tasks, model stages on actors.

Every film advances stage by stage; a finished stage submits the film's next one, so films overlap
(one decodes while another is matched). CPU stages (extract, filter, export) are tasks that take a
CPU wherever one is free. Model stages run on `StageHost` actors created once per library:
`characters` on identity actors (the backend loaded once, `num_gpus` declared for GPU backends) and
`caption` on captioning actors (the CLIP tokenizer loaded once). Ray's GPU count is bookkeeping
only, so GPU work still goes through the project's scheduler inside each actor or task: it decides
what is resident on the card (and evicts for SDXL), Ray only decides where work is placed.
"""
from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import ray
from ray.util.queue import Empty, Queue

from tools.core.settings.loader import home
from tools.core.types import ToolError
from tools.dataset.library import (
    GPU_STAGES,
    MODEL_STAGES,
    FilmJob,
    FilmOutcome,
    FilmTracker,
    ProgressSink,
    StageHost,
    StageReport,
)

log = logging.getLogger("animstudio.dataset.ray")


def init_args(address: str | None, num_cpus: int | None) -> dict[str, Any]:
    """`ray.init` arguments: an explicit address, else RAY_ADDRESS, else a new local instance."""
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address and address != "local":
        return {"address": address}
    # "local": always a fresh instance, never a cluster some other program started on this machine.
    return {"address": "local", "num_cpus": num_cpus, "include_dashboard": False}


def connect(address: str | None = None, num_cpus: int | None = None) -> tuple[str, bool]:
    """Start or attach to Ray; (address, whether this call started it and must shut it down)."""
    if ray.is_initialized():  # a notebook or test that called ray.init itself
        return ray.get_runtime_context().gcs_address, False
    kwargs = init_args(address, num_cpus)
    if kwargs["address"] != "local" and os.environ.get("ANIMSTUDIO_HOME"):
        # Relative paths in the settings resolve against ANIMSTUDIO_HOME; without it, against the
        # project folder on each node. (A runtime_env costs fresh workers: set only when needed.)
        kwargs["runtime_env"] = {"env_vars": {"ANIMSTUDIO_HOME": str(home())}}
    try:
        ray.init(log_to_driver=False, logging_level=logging.WARNING, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = kwargs["address"]
        raise ToolError(f"cannot reach a Ray cluster at {where}: {exc}",
                        "start one with `ray start --head` (docs/scale.md), or drop --address to run on this machine"
                        ) from exc
    return ray.get_runtime_context().gcs_address, True


class QueueSink:
    """A picklable progress sink: workers put (dataset, event) on a queue the driver drains."""

    def __init__(self, queue: Queue):
        self.queue = queue

    def __call__(self, name: str, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait((name, event))
        except Exception as exc:  # noqa: BLE001 - a full or gone queue costs a progress update, never the work
            log.debug("progress event dropped: %s", exc)


@ray.remote(num_cpus=1)
def _stage_task(settings, run_id: str, job: FilmJob, stage: str, sink: QueueSink) -> StageReport:
    return StageHost(settings, run_id, worker="task").run(job, stage, sink)


class _ActorPool:
    """Long-lived StageHost actors for one model stage; each call goes to the least busy one."""

    def __init__(self, kind: str, settings, run_id: str, count: int, num_gpus: float):
        host = ray.remote(max_restarts=2)(StageHost)
        # num_cpus=0: an actor that held a CPU for its lifetime could starve the CPU tasks on a small
        # node (and deadlock the library); its GPU, when it wants one, is held for its lifetime.
        # SPREAD: one actor per node before two on any node.
        self.actors = [host.options(num_cpus=0, num_gpus=num_gpus, scheduling_strategy="SPREAD")
                       .remote(settings, run_id, None, f"actor:{kind}") for _ in range(count)]
        self.busy: Counter[int] = Counter()

    def submit(self, job: FilmJob, stage: str, sink: QueueSink) -> tuple[ray.ObjectRef, int]:
        i = min(range(len(self.actors)), key=lambda k: (self.busy[k], k))
        self.busy[i] += 1
        return self.actors[i].run.remote(job, stage, sink), i

    def done(self, i: int) -> None:
        self.busy[i] -= 1

    def close(self) -> None:
        for actor in self.actors:
            ray.kill(actor)


def _plan_actors(settings, jobs: list[FilmJob]) -> dict[str, tuple[int, float]]:
    """kind → (actors, num_gpus each), for the model stages this library runs."""
    cfg = settings.dataset.library
    gpus = float(ray.cluster_resources().get("GPU", 0))
    nodes = max(1, sum(1 for n in ray.nodes() if n.get("Alive")))
    wanted = {MODEL_STAGES[s] for j in jobs for s in j.stages if s in MODEL_STAGES}
    plan: dict[str, tuple[int, float]] = {}
    if "identity" in wanted:
        per = cfg.identity_gpus
        if per is None:  # only insightface (onnxruntime-gpu) runs on a GPU; opencv and dnn stay on the CPU
            per = 1.0 if gpus and _insightface_chosen(settings) else 0.0
        if per > gpus:
            raise ToolError(f"identity actors want {per:g} GPU each but the cluster has {gpus:g}",
                            "set dataset.library.identity_gpus to 0 (CPU) or add GPU nodes")
        count = cfg.identity_actors or (int(gpus // per) if per else nodes)
        plan["identity"] = (max(1, min(count, len(jobs))), per)
    if "captioner" in wanted:
        count = cfg.caption_actors or nodes
        plan["captioner"] = (max(1, min(count, len(jobs))), 0.0)
    return plan


def _insightface_chosen(settings) -> bool:
    ds = settings.dataset
    return ds.identity_backend == "insightface" or (ds.identity_backend == "auto" and ds.insightface_root is not None)


def run_ray(settings, jobs: list[FilmJob], run_id: str, sink: ProgressSink | None = None,
            on_stage: Callable[[str, StageReport], None] | None = None) -> list[FilmOutcome]:
    """Run every film's stages on the connected Ray cluster; a failed film stops only itself."""
    cfg = settings.dataset.library
    gpus = float(ray.cluster_resources().get("GPU", 0))
    train_gpus = cfg.train_gpus if cfg.train_gpus is not None else (1.0 if gpus else 0.0)
    queue = Queue(actor_options={"num_cpus": 0})
    qsink = QueueSink(queue)
    pools = {kind: _ActorPool(kind, settings, run_id, n, g) for kind, (n, g) in _plan_actors(settings, jobs).items()}
    tracker = FilmTracker(jobs)
    pending: dict[ray.ObjectRef, tuple[str, str, str | None, int]] = {}  # ref → (film, stage, pool, actor)

    def submit(job: FilmJob, stage: str) -> None:
        kind = MODEL_STAGES.get(stage)
        if kind is not None:
            ref, i = pools[kind].submit(job, stage, qsink)
        else:
            task = _stage_task.options(num_gpus=train_gpus if stage in GPU_STAGES else 0)
            ref, i = task.remote(settings, run_id, job, stage, qsink), -1
        pending[ref] = (job.name, stage, kind, i)

    def drain() -> None:
        try:
            events = queue.get_nowait_batch(queue.qsize())
        except Empty:
            return
        for name, event in events:
            if sink is not None:
                sink(name, event)

    try:
        # Longest films first: a big film started last would finish alone, long after the others.
        for job in sorted(jobs, key=lambda j: -_size(j.film)):
            submit(job, job.stages[0])
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
            drain()
            for ref in ready:
                name, stage, kind, i = pending.pop(ref)
                if kind is not None:
                    pools[kind].done(i)
                try:
                    report = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - a crashed worker or actor fails this film only
                    report = StageReport(stage=stage, ok=False, error=f"{type(exc).__name__}: {_cause(exc)}")
                if on_stage:
                    on_stage(name, report)
                nxt = tracker.record(name, report)
                if nxt is not None:
                    submit(tracker.jobs[name], nxt)
        time.sleep(0.05)
        drain()
    finally:
        for pool in pools.values():
            pool.close()
        ray.kill(queue.actor)
    return list(tracker.outcomes.values())


def _size(path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _cause(exc: Exception) -> str:
    cause = getattr(exc, "cause", None)
    return str(cause) if cause is not None else str(exc).splitlines()[0][:300]


def node_count() -> int:
    return max(1, sum(1 for n in ray.nodes() if n.get("Alive")))
