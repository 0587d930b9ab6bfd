"""How every `animstudio` subcommand ends: one exit-code policy, errors as one line on stderr.

0  the command did what was asked (for `run`: the run passed, or finished with nothing to score
   and no failed step, or stopped where it waits for a person's review);
1  a run (or tool call) that went through and finished failed;
2  bad input: arguments, configuration, files, run ids, endpoints — nothing was run (also a run
   refused before its first step because a model it needs is not configured, and a run that waits
   for input the request left out: status needs_input, the question in the output);
130/143  interrupted (Ctrl-C / SIGTERM); the run can be resumed.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

stderr = Console(stderr=True, soft_wrap=True)


def fail(message: str, hint: str = "", code: int = EXIT_BAD_INPUT) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {escape(message)}" + (f"\n[dim]hint: {escape(hint)}[/]" if hint else ""),
                 highlight=False)
    raise typer.Exit(code)


def expected_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "bad input" (imported lazily: the CLI starts fast)."""
    from agent.errors import AgentInputError
    from agent.llm import LLMError
    from tools.core.settings import ConfigError
    from tools.core.types import ToolError

    return ConfigError, AgentInputError, ToolError, LLMError


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Expected errors become one line on stderr and exit code 2; Ctrl-C becomes exit code 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tools.core.child_processes import install_signal_handlers

        install_signal_handlers()
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            stderr.print("[yellow]interrupted[/] (a run can be resumed with `animstudio run --resume <run id>`)")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except expected_errors() as exc:
            message, hint = getattr(exc, "message", None) or str(exc), getattr(exc, "hint", "")
            fail(message, hint)
        except (MemoryError, RuntimeError, OSError, ImportError) as exc:  # e.g. a library that cannot be mapped
            from tools.core.child_processes import out_of_address_space

            message = out_of_address_space(exc)
            if message is None:
                raise
            fail(message, "raise or remove that limit: the models' libraries reserve a few GB of address space "
                          "they never touch (a short cut of a film ran under 4 GB here)", EXIT_FAILED)

    return wrapper


def run_exit_code(result: Any) -> int:
    """0 for a passed run (or an unscored one with no failed step, or one waiting for a review),
    1 for a run that finished failed, 2 for one refused for a missing setting or waiting for input (nothing ran)."""
    if result.status in ("passed", "awaiting_review"):
        return EXIT_OK
    if result.status in ("refused", "needs_input"):
        return EXIT_BAD_INPUT
    failed_steps = [s for s, r in (result.step_results or {}).items() if not r.get("ok")]
    if result.status == "done" and not failed_steps:
        return EXIT_OK
    return EXIT_FAILED
