"""Running a film library with the chosen executor: the local one (library.py) or Ray (ray_library.py).

Both executors import library.py (jobs, `StageHost`, the tracker); this module imports both, so
neither imports the other.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from tools.core.context import ToolContext
from tools.core.types import ToolError
from tools.dataset.library import Executor, FilmJob, LibraryReport, ProgressSink, StageReport, run_local


def run_library(settings, jobs: list[FilmJob], ctx: ToolContext, executor: Executor = "local",
                address: str | None = None, sink: ProgressSink | None = None,
                on_stage: Callable[[str, StageReport], None] | None = None) -> LibraryReport:
    """Build every film's dataset with the chosen executor; failed films are reported, not raised."""
    start = time.perf_counter()
    if executor == "local":
        films = run_local(settings, jobs, ctx, sink, on_stage)
        return LibraryReport(executor="local", films=films, seconds=round(time.perf_counter() - start, 3))
    try:
        import ray

        from tools.dataset import ray_library
    except ImportError as exc:
        raise ToolError(f"the Ray executor needs the ray package ({exc})", "pip install 'ray>=2.52'") from exc
    cfg = settings.dataset.library
    where, owned = ray_library.connect(address or cfg.address or None, cfg.num_cpus)
    startup = time.perf_counter() - start
    try:
        films = ray_library.run_ray(settings, jobs, ctx.workspace.run_id, sink, on_stage)
        nodes = ray_library.node_count()
    finally:
        if owned:
            ray.shutdown()
    return LibraryReport(executor="ray", address=where, nodes=nodes, films=films,
                         seconds=round(time.perf_counter() - start, 3), startup_seconds=round(startup, 3))
