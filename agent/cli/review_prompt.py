"""The review pause in the terminal (`run --review`, the chat REPL, `animstudio review`).

Shows the script (or the candidate scenes with their keyframe files) and asks: approve, edit or
reject. Editing a script goes line by line: Enter keeps a line, new text replaces it, "-" drops it,
and "WHO: TEXT" lines can be added at the end.
"""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.prompt import Prompt
from rich.table import Table


def show_review(console: Console, payload: dict[str, Any]) -> None:
    if payload.get("kind") == "script":
        table = Table("#", "who", "line", "time", title=f"Script: {payload.get('title', '')}")
        for n, line in enumerate(payload.get("lines", []), 1):
            table.add_row(str(n), escape(line["character"]), escape(line["text"]),
                          f"{line.get('start', 0):.1f}–{line.get('end', 0):.1f}s")
        console.print(table)
        console.print(f"[dim]{payload.get('footage_duration')} s of footage · source: {payload.get('source')}[/]")
        return
    table = Table("scene", "time", "score", "description", "keyframe",
                  title=f"Which scene for “{escape(str(payload.get('query', '')))}”? ({escape(str(payload.get('why', '')))})")
    for c in payload.get("candidates", []):
        score = c.get("score")
        table.add_row(str(c["scene"]), f"{c.get('start', 0):.1f}–{c.get('end', 0):.1f}s",
                      "–" if score is None else f"{score:.2f}", escape(str(c.get("description", ""))[:80]),
                      escape(str(c.get("keyframe") or "")))
    console.print(table)


def ask_review(console: Console, payload: dict[str, Any]) -> dict[str, Any]:
    """Ask the person for a decision on the pending review; the result goes to Agent.resume(review=...)."""
    show_review(console, payload)
    action = Prompt.ask("approve, edit or reject?", choices=["approve", "edit", "reject"], default="approve",
                        console=console)
    if action == "approve":
        return {"action": "approve"}
    if action == "reject":
        return {"action": "reject", "note": Prompt.ask("why (optional)", default="", console=console)}
    if payload.get("kind") != "script":
        choices = [str(c["scene"]) for c in payload.get("candidates", [])]
        picked = Prompt.ask("scene", choices=choices, default=choices[0] if choices else None, console=console)
        return {"action": "edit", "scene": int(picked)}
    title = Prompt.ask("title", default=payload.get("title", ""), console=console)
    lines = []
    for n, line in enumerate(payload.get("lines", []), 1):
        text = Prompt.ask(f"{n}. {escape(line['character'])} (Enter keeps, '-' drops)", default=line["text"],
                          console=console)
        if text.strip() != "-":
            lines.append({"character": line["character"], "text": text.strip()})
    while True:
        extra = Prompt.ask("add a line as WHO: TEXT (Enter to finish)", default="", console=console).strip()
        if not extra:
            break
        who, sep, text = extra.partition(":")
        lines.append({"character": who.strip(), "text": text.strip()} if sep else {"character": "Narrator",
                                                                                      "text": extra})
    return {"action": "edit", "title": title, "lines": lines}


def review_until_done(agent, result, console: Console):
    """While the run waits for a review, ask in the terminal and continue it with the answer."""
    from agent.api import AgentInputError
    from agent.cli.console import EventPrinter

    while result.status == "awaiting_review" and result.review:
        decision = ask_review(console, result.review)
        printer = EventPrinter(console)
        try:
            result = agent.resume(result.run_id, on_event=printer, review=decision)
        except AgentInputError as exc:  # e.g. edited lines that do not fit: ask again
            console.print(f"[bold red]error:[/] {escape(str(exc))}")
        finally:
            printer.close()
    return result
