"""The needs_input pause in the terminal (`run`, `answer`, the chat REPL): the question, its options and
what each does, and the flag that gives it up front; the answer resumes the run.

One way to show a question (`show_question`) and one to read the answer (`read_answer`): a number or
an option's key picks that option, anything else is a typed value (a path, a time range, a line).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel


def question_text(q: dict[str, Any]) -> str:
    lines = [q.get("question", "")]
    if q.get("why"):
        lines.append(f"[dim]why: {escape(q['why'])}[/]")
    for n, option in enumerate(q.get("options") or [], 1):
        does = f" — {escape(option['does'])}" if option.get("does") else ""
        lines.append(f"  {n}. [bold]{escape(option['label'])}[/] ({escape(option['key'])}){does}")
    if q.get("free_text", True):
        lines.append("  or type the answer" + (" (a path, a time, a line…)" if q.get("options") else ""))
    if q.get("how"):
        lines.append(f"[dim]next time: {escape(q['how'])}[/]")
    return "\n".join(lines)


def show_question(console: Console, q: dict[str, Any]) -> None:
    console.print(Panel(question_text(q), title=f"needs input ({q.get('kind')}) — {q.get('job') or ''}",
                        border_style="cyan"))


def read_answer(q: dict[str, Any], reply: str) -> dict[str, str]:
    """A reply as an answer: a number or an option's key picks the option; anything else is a value."""
    reply = reply.strip()
    options = q.get("options") or []
    if reply.isdigit() and 1 <= int(reply) <= len(options):
        return {"option": options[int(reply) - 1]["key"]}
    if any(o["key"] == reply for o in options):
        return {"option": reply}
    return {"value": reply}


def is_command(reply: str) -> bool:
    """A chat command ("/quit", "/help"), not an absolute path ("/films/a.mp4")."""
    word = reply.strip().split(" ", 1)[0]
    return bool(re.fullmatch(r"/[a-z]+", word)) and not Path(word).exists()


def answer_until_done(agent, result, console: Console, ask: Callable[[str], str] | None = None):
    """While the run waits for input, ask in the terminal and continue it with the answer (an empty
    answer or Ctrl-D leaves it waiting: `animstudio answer RUN_ID ...` continues it later)."""
    from agent.api import AgentInputError
    from agent.cli.console import EventPrinter

    ask = ask or (lambda prompt: console.input(prompt))
    while result.status == "needs_input" and result.question:
        show_question(console, result.question)
        try:
            reply = ask("[bold]answer>[/] ")
        except (EOFError, KeyboardInterrupt):
            break
        if not reply.strip() or is_command(reply):  # nothing, or a chat command: leave it waiting
            break
        count = len(result.question.get("options") or [])
        # A bare number that is no option's is a slip, unless the question takes numbers (a time, a line).
        if reply.strip().isdigit() and not 1 <= int(reply) <= count and result.question.get("kind") not in ("time", "line"):
            console.print(f"[bold red]error:[/] there is no option {reply.strip()}"
                          + (f": pick 1–{count}" if count else "") + " or type the answer")
            continue
        printer = EventPrinter(console)
        try:
            result = agent.resume(result.run_id, on_event=printer, answer=read_answer(result.question, reply))
        except AgentInputError as exc:  # e.g. a folder that does not exist: ask again
            console.print(f"[bold red]error:[/] {escape(str(exc))}\n[dim]An empty answer leaves the question "
                          f"for later (`animstudio answer {result.run_id}`).[/]")
        finally:
            printer.close()
    return result
