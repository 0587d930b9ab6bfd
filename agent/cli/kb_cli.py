"""`animstudio kb ...`: ingest, search and inspect the knowledge base."""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from agent.cli.errors import fail
from tools.core.progress import CallbackProgress
from tools.core.settings.loader import ConfigError, dotted_overrides, load_settings, resolve_path
from tools.core.types import ToolError

app = typer.Typer(help="Knowledge base: ingest markdown, search it, list what is in it.", no_args_is_help=True)
console = Console()

ConfigOpt = typer.Option(None, "--config", help="A config file layered on the defaults.")
SetOpt = typer.Option([], "--set", help="Override a setting, e.g. rag.retrieval=vector.")


def _open(config: Path | None, overrides: list[str]):
    from rag.knowledge_base import open_knowledge_base

    settings = load_settings(config, dotted_overrides(overrides or []))
    return settings, open_knowledge_base(settings)


def _fail(exc: Exception) -> None:
    fail(getattr(exc, "message", None) or str(exc), getattr(exc, "hint", ""))


@app.command()
def ingest(path: Path | None = typer.Argument(None, help="A markdown file or folder (default: rag.knowledge_dir)."),
           kind: str | None = typer.Option(None, "--kind", help="Collection for files whose front matter names none."),
           no_prune: bool = typer.Option(False, "--no-prune", help="Keep chunks of files deleted from the folder."),
           config: Path | None = ConfigOpt, set_: list[str] = SetOpt) -> None:
    """Ingest markdown (idempotent: unchanged files are skipped, changed ones replaced)."""
    from rag.ingest import ingest_path

    try:
        settings, kb = _open(config, set_)
        target = path if path is not None else resolve_path(settings.rag.knowledge_dir)
        progress = CallbackProgress()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console,
                      transient=True) as bars:
            tasks: dict[str, int] = {}

            def show(event: dict) -> None:
                key = event["description"]
                if key not in tasks:
                    tasks[key] = bars.add_task(key, total=event["total"])
                bars.update(tasks[key], completed=event["completed"], total=event["total"])

            progress.listeners.append(show)
            report = ingest_path(kb, target, kind=kind, prune=not no_prune, progress=progress)
    except (ToolError, ConfigError) as exc:
        _fail(exc)
    console.print(f"[green]{report.summary()}[/green]")
    for source, error in report.failed.items():
        console.print(f"[yellow]skipped[/yellow] {source}: {error}")
    if report.failed and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(1)


@app.command()
def search(query: str = typer.Argument(..., help="What to look for."),
           k: int = typer.Option(5, "-k", help="How many passages."),
           kind: str | None = typer.Option(None, "--kind", help="characters, films, scenes, styles, comedy, runs…"),
           film: str | None = typer.Option(None, "--film", help="Only passages about this film."),
           character: str | None = typer.Option(None, "--character", help="Only passages about this character."),
           mode: str | None = typer.Option(None, "--mode", help="hybrid | vector | keyword."),
           as_json: bool = typer.Option(False, "--json", help="Print Evidence JSON."),
           config: Path | None = ConfigOpt, set_: list[str] = SetOpt) -> None:
    """Search the knowledge base (hybrid vector + BM25 by default)."""
    if mode not in (None, "hybrid", "vector", "keyword"):
        _fail(ValueError(f"--mode must be hybrid, vector or keyword, got {mode!r}"))
    try:
        _, kb = _open(config, set_)
        filters = {key: value for key, value in (("kind", kind), ("film", film), ("character", character)) if value}
        results = kb.search(query, k=k, filters=filters or None, mode=mode)
    except (ToolError, ConfigError) as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps([e.model_dump() for e in results], indent=2, default=str))
        return
    if not results:
        console.print("No matching passages (try fewer filters, or `animstudio kb ingest`).")
        return
    for rank, ev in enumerate(results, start=1):
        console.print(f"[bold]{rank}. {ev.title}[/bold]  [dim]{ev.kind} · {ev.source} · score {ev.score:.4f}[/dim]")
        preview = " ".join(ev.text.split())  # markdown's hard line breaks would wrap oddly
        console.print(preview[:400] + ("…" if len(preview) > 400 else ""), markup=False, highlight=False)
        console.print()


@app.command("list")
def list_sources(kind: str | None = typer.Option(None, "--kind", help="Only this collection."),
                 config: Path | None = ConfigOpt, set_: list[str] = SetOpt) -> None:
    """List ingested sources with their kind and chunk count."""
    try:
        _, kb = _open(config, set_)
        sources = [s for s in kb.sources() if kind is None or s.kind == kind]
    except (ToolError, ConfigError) as exc:
        _fail(exc)
    table = Table("kind", "source", "title", "chunks", "origin")
    for s in sources:
        table.add_row(s.kind, s.source, s.title, str(s.chunks), s.origin)
    console.print(table)


@app.command()
def stats(config: Path | None = ConfigOpt, set_: list[str] = SetOpt) -> None:
    """Chunks per collection, number of sources, where it is stored, which embedding model."""
    try:
        _, kb = _open(config, set_)
        info = kb.stats()
    except (ToolError, ConfigError) as exc:
        _fail(exc)
    table = Table("collection", "chunks")
    for kind_name, count in info.chunks_by_kind.items():
        table.add_row(kind_name, str(count))
    table.add_row("[bold]total[/bold]", f"[bold]{info.total_chunks}[/bold]")
    console.print(table)
    console.print(f"sources: {info.sources}\npersist_dir: {info.persist_dir}\nembedding model: {info.embedding_model}")


@app.command()
def remove(source: str = typer.Argument(..., help="A source as shown by `kb list`."),
           config: Path | None = ConfigOpt, set_: list[str] = SetOpt) -> None:
    """Remove one source's chunks."""
    try:
        _, kb = _open(config, set_)
        removed = kb.remove_source(source)
    except (ToolError, ConfigError) as exc:
        _fail(exc)
    if not removed:
        fail(f"No chunks for source {source!r}", "see `animstudio kb list`")
    console.print(f"Removed {removed} chunks of {source}.")
