"""`animstudio dataset ...`: the movie→LoRA dataset pipeline from the command line."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agent.cli.errors import fail
from tools.core.context import make_context
from tools.core.settings.loader import ConfigError, dotted_overrides, load_settings
from tools.core.types import ToolError
from tools.dataset.metadata import DatasetStore
from tools.dataset.pipeline import run_pipeline
from tools.dataset.stage import STAGES

app = typer.Typer(help="Movie → LoRA dataset pipeline: frames, quality, characters, captions, LoRA, samples.",
                  no_args_is_help=True)
console = Console()
progress_console = Console(stderr=True)  # progress on stderr: stdout holds results only


def _error(exc: Exception) -> None:
    fail(getattr(exc, "message", None) or str(exc), getattr(exc, "hint", ""))


def _settings(config: Path | None, overrides: list[str]):
    return load_settings(config, dotted_overrides(overrides or []))


class RichProgress:
    """Turns ctx.progress events into rich progress bars (one per stage task)."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def __call__(self, event: dict) -> None:
        desc = event["description"]
        if desc not in self.tasks:
            self.tasks[desc] = self.progress.add_task(desc, total=event["total"])
        self.progress.update(self.tasks[desc], completed=event["completed"], total=event["total"])


def _context(settings, film: Path | None = None):
    ctx = make_context(settings)
    if film is not None:
        ctx.workspace.allow_file(film)
    return ctx


@app.command()
def run(name: str | None = typer.Option(None, "--name", help="Dataset name (folder under paths.datasets_dir)."),
        film: Path | None = typer.Option(None, "--film", help="The film to extract frames from."),
        films: str | None = typer.Option(None, "--films", help="A folder of films or a glob: one dataset per film."),
        executor: str | None = typer.Option(None, "--executor", help="With --films: local | ray (default dataset.library.executor)."),
        address: str | None = typer.Option(None, "--address", help="With --films --executor ray: auto | HOST:PORT (default RAY_ADDRESS, else local)."),
        refs: Path | None = typer.Option(None, "--refs", help="Folder with refs/<character>/*.png|jpg."),
        start: str | None = typer.Option(None, "--from", help=f"First stage: {', '.join(STAGES)}."),
        until: str | None = typer.Option(None, "--until", help="Last stage (inclusive)."),
        character: list[str] = typer.Option([], "--character", help="Only these characters (train/infer/export)."),
        max_steps: int | None = typer.Option(None, "--max-steps", help="LoRA training steps."),
        config: Path | None = typer.Option(None, "--config", help="A config file layered on the defaults."),
        set_: list[str] = typer.Option([], "--set", help="Override a setting, e.g. dataset.blur_min=80.")) -> None:
    """Run the pipeline (or a range of stages) on a film or a library of films; re-runs redo only what changed."""
    if films is not None:
        _run_library(films, name, film, refs, start, until, character, max_steps, executor, address, config, set_)
        return
    if executor is not None or address is not None:
        fail("--executor and --address go with --films")
    if name is None:
        fail("give --name for one film, or --films for a library")
    try:
        settings = _settings(config, set_)
        ctx = _context(settings, film)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=progress_console, transient=False) as progress:
            ctx.progress.listeners.append(RichProgress(progress))
            results = run_pipeline(ctx, name, film=film.resolve() if film else None,
                                   refs=refs.resolve() if refs else None, start=start, until=until,
                                   characters=character or None, max_steps=max_steps)
    except (ToolError, ConfigError) as exc:
        _error(exc)
    for result in results:
        console.print("•", result.summary(), markup=False, soft_wrap=True)


def _run_library(films: str, name, film, refs, start, until, character, max_steps, executor, address, config, set_) -> None:
    from agent.cli.library_cli import run_films

    if name is not None or film is not None:
        fail("--films names each dataset after its film; drop --name/--film")
    if executor not in (None, "local", "ray"):
        fail("--executor must be local or ray")
    try:
        ok = run_films(console, _settings(config, set_), films, refs, start, until, character or None, max_steps,
                       executor, address)
    except (ToolError, ConfigError) as exc:
        _error(exc)
    if not ok:
        raise typer.Exit(1)


@app.command()
def status(name: str = typer.Argument(..., help="Dataset name."),
           config: Path | None = typer.Option(None, "--config"),
           set_: list[str] = typer.Option([], "--set")) -> None:
    """Counts per stage and per character, and why items were dropped."""
    try:
        store = DatasetStore.open(_settings(config, set_), name, create=False)
    except (ToolError, ConfigError) as exc:
        _error(exc)
    meta = store.meta
    console.print(f"[bold]{escape(meta.name)}[/]  film: {escape(str(meta.film))}  frames: {len(meta.items)}  scenes: {len(meta.scenes)}")
    table = Table("stage", "counts", "redone/reused", "seconds")
    for stage in STAGES:
        counts = Counter(i.status(stage) for i in meta.items.values() if i.status(stage))
        summary = meta.stages.get(stage)
        if not counts and not summary:
            continue
        shown = counts or Counter(summary.counts)
        table.add_row(stage, ", ".join(f"{k}={v}" for k, v in sorted(shown.items())),
                      f"{summary.redone}/{summary.reused}" if summary else "-", f"{summary.seconds:.1f}" if summary else "-")
    console.print(table)
    chars = Table("character", "trigger", "frames", "LoRA")
    kept = store.items(kept_after="filter")
    for c, info in sorted(meta.characters.items()):
        lora = meta.outputs.get("loras", {}).get(c, {}).get("lora_name", "-")
        chars.add_row(c, info.trigger, str(sum(c in i.characters for i in kept)), lora)
    if meta.characters:
        console.print(chars)
    reasons = Counter(i.stages[s].reason.split(" (")[0] for i in meta.items.values() for s in ("extract", "filter", "characters")
                      if s in i.stages and i.stages[s].reason)
    if reasons:
        why = Table("why items were dropped or unmatched", "frames")
        for reason, n in reasons.most_common():
            why.add_row(reason, str(n))
        console.print(why)


@app.command("export")
def export_cmd(name: str = typer.Argument(..., help="Dataset name."),
               format: str = typer.Option("kohya", "--format", help="kohya | diffusers | both"),
               character: list[str] = typer.Option([], "--character"),
               config: Path | None = typer.Option(None, "--config"),
               set_: list[str] = typer.Option([], "--set")) -> None:
    """Write the kohya_ss folder layout or the diffusers imagefolder layout, per character."""
    from tools.dataset.export import run_export

    if format not in ("kohya", "diffusers", "both"):
        fail("--format must be kohya, diffusers or both")
    try:
        settings = _settings(config, set_)
        ctx = _context(settings)
        result = run_export(ctx, DatasetStore.open(settings, name, create=False), format, character or None)
    except (ToolError, ConfigError) as exc:
        _error(exc)
    console.print(result.summary(), markup=False, soft_wrap=True)
    for a in result.artifacts[1:]:
        console.print(f"  {a.metadata.get('character')}: {a.path} ({a.metadata.get('images')} images)")
