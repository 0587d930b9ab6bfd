"""`animstudio dataset run --films`: a film library with per-film progress, a summary and a report."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tools.core.context import make_context
from tools.core.settings.loader import resolve_path
from tools.core.trace import Trace
from tools.core.workspace import Workspace
from tools.dataset.library import (
    FilmJob,
    LibraryReport,
    StageReport,
    discover_films,
    plan_library,
)
from tools.dataset.library_runner import run_library
from tools.dataset.metadata import dataset_dir


class FilmBars:
    """One progress row per film: its current stage, the stage's items, and how it ended."""

    def __init__(self, progress: Progress, jobs: list[FilmJob]):
        self.progress, self.jobs = progress, {j.name: j for j in jobs}
        self.rows = {j.name: progress.add_task(f"{escape(j.name)}: waiting", total=None) for j in jobs}

    def _label(self, name: str, text: str) -> str:
        return f"[bold]{escape(name)}[/] {escape(text)}"

    def event(self, name: str, event: dict) -> None:
        if name in self.rows:
            self.progress.update(self.rows[name], description=self._label(name, event["description"]),
                                 completed=event["completed"], total=event["total"])

    def stage(self, name: str, report: StageReport) -> None:
        job = self.jobs[name]
        k = job.stages.index(report.stage) + 1
        if not report.ok:
            text = f"[red]failed in {report.stage}[/]"
            self.progress.update(self.rows[name], description=f"[bold]{escape(name)}[/] {text}")
        elif k == len(job.stages):
            self.progress.update(self.rows[name], description=self._label(name, f"done ({k} stages)"),
                                 completed=1, total=1)
        else:
            self.progress.update(self.rows[name], description=self._label(name, f"{report.stage} done ({k}/{len(job.stages)})"))


def run_films(console: Console, settings, films_spec: str, refs: Path | None, start: str | None, until: str | None,
              characters: list[str] | None, max_steps: int | None, executor: str | None, address: str | None) -> bool:
    """Plan, run and report a library; True when every film succeeded."""
    films = discover_films(films_spec)
    jobs = plan_library(films, refs.resolve() if refs else None, start, until, characters, max_steps)
    executor = executor or settings.dataset.library.executor
    ws = Workspace.create(resolve_path(settings.paths.runs_dir),
                          media_roots=[resolve_path(p) for p in settings.paths.media_roots])
    ws.root.mkdir(parents=True, exist_ok=True)
    trace = Trace(ws.root / "trace.jsonl")
    ctx = make_context(settings, ws, trace=trace)
    console.print(f"[bold]{len(jobs)} films[/] → {escape(str(dataset_dir(settings, jobs[0].name).parent))}/<name>/  "
                  f"executor: {executor}  stages: {', '.join(jobs[0].stages)}")
    _write_plan(ws.root, jobs, films_spec)
    trace.event("library.start", executor=executor, films=len(jobs))

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        bars = FilmBars(progress, jobs)

        def on_stage(name: str, report: StageReport) -> None:
            bars.stage(name, report)
            # `ray_node`, not `node`: in a run's trace `node` names a graph node.
            trace.event("dataset.library_stage", step=name, ray_node=report.node, **report.model_dump(exclude={"node"}))

        report = run_library(settings, jobs, ctx, executor=executor, address=address, sink=bars.event,
                             on_stage=on_stage)
    _print_summary(console, report)
    _write_result(ws.root, report, films_spec, settings)
    trace.event("library.done", ok=report.ok, seconds=report.seconds)
    try:
        from agent.report import render_report

        console.print(f"report: {render_report(ws.root)}")
    except Exception as exc:  # noqa: BLE001 - the datasets are built; a report problem is only reported
        console.print(f"[yellow]report not written:[/] {escape(str(exc))}")
    return report.ok


def _print_summary(console: Console, report: LibraryReport) -> None:
    """One row per film: its dataset (for `dataset status NAME`), result, throughput and, on Ray, where."""
    ray = report.executor == "ray"
    table = Table("dataset", "result", "frames", "stage s", "fps", "done after s", *(["where"] if ray else []))
    for f in report.films:
        result = "[green]ok[/]" if f.ok else f"[red]failed[/] ({escape(f.failed_stage or '?')})"
        fps = f"{f.frames / f.seconds:.0f}" if f.frames and f.seconds else "-"
        where = sorted({s.host + (f":{s.node[:6]}" if s.node else "") for s in f.stages if s.host})
        table.add_row(escape(f.name), result, str(f.frames or "-"), f"{f.seconds:.1f}", fps, f"{f.finished_after:.1f}",
                      *([escape(", ".join(where))] if ray else []))
    console.print(table)
    for f in report.films:
        if not f.ok:
            console.print(f"[red]{escape(f.name)}:[/] {escape(f.error)}" + (f"\n  [dim]hint: {escape(f.hint)}[/]" if f.hint else ""),
                          soft_wrap=True)
    ok = sum(f.ok for f in report.films)
    extra = f", Ray start {report.startup_seconds:.1f}s, {report.nodes} node(s)" if report.executor == "ray" else ""
    console.print(f"{ok}/{len(report.films)} films done in {report.seconds:.1f}s ({report.executor}{extra})")


def _write_plan(run_dir: Path, jobs: list[FilmJob], spec: str) -> None:
    steps = [{"id": j.name, "tool": "dataset library", "description": f"{j.film.name}: {', '.join(j.stages)}"}
             for j in jobs]
    (run_dir / "plan.json").write_text(json.dumps({"goal": f"dataset run --films {spec}", "steps": steps}, indent=1),
                                       encoding="utf-8")


def _write_result(run_dir: Path, report: LibraryReport, spec: str, settings) -> None:
    artifacts = [{"path": str(dataset_dir(settings, f.name) / "metadata.json"), "kind": "json",
                  "metadata": {"dataset": f.name, "film": f.film}} for f in report.films]
    done = sum(f.ok for f in report.films)
    result = {"request": f"dataset run --films {spec}", "status": "done" if report.ok else "failed",
              "final_answer": f"{done}/{len(report.films)} film datasets built ({report.executor})",
              "artifacts": artifacts, "library": report.model_dump(mode="json")}
    (run_dir / "result.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
