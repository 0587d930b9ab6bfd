"""Agent events → compact JSON events for the studio (SSE, the live page, the stored event log).

`Agent.stream` yields whole state updates (a step's full result, every evidence passage). A browser
needs a line of text, the plan's shape, which step finished, the progress of the running tool, the
review to answer and the result: that is what goes over the wire and into the event log.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text

from agent.cli.console import NODE_ICONS, node_line
from agent.studio.jobs import TERMINAL


def compact(event: dict[str, Any], film: str | None = None) -> dict[str, Any] | None:
    """The studio form of one `Agent.stream` event (None for events it does not show). `film`: the
    name of the film the person chose, for the first line when the request itself names none."""
    kind = event.get("type")
    if kind == "progress":
        return {"type": "progress", "description": str(event.get("description", "working")),
                "completed": event.get("completed", 0), "total": event.get("total") or 0,
                "done": bool(event.get("done"))}
    if kind == "node":
        node, update = event["node"], event.get("update") or {}
        if node == "understand" and film and not (update.get("intent") or {}).get("film"):
            update = {**update, "intent": {**(update.get("intent") or {}), "film": film}}
        line = Text.from_markup(node_line(node, update)).plain
        # Without the terminal's emoji (a browser without an emoji font draws boxes).
        out: dict[str, Any] = {"type": "node", "node": node, "text": line.removeprefix(NODE_ICONS.get(node, "")).strip()}
        if node == "plan":
            plan = update.get("plan") or {}
            out["plan"] = {"workflow": plan.get("workflow"), "strategy": plan.get("strategy"),
                           "steps": [{"id": s["id"], "tool": s["tool"], "depends_on": s.get("depends_on", [])}
                                     for s in plan.get("steps", [])]}
        if "pending" in update:  # the steps still to run, in order: execute runs the first one next
            out["pending"] = list(update.get("pending") or [])
        if node in ("execute", "review"):
            out["steps"] = {sid: ("ok" if r.get("ok") else "skipped" if r.get("error_kind") == "skipped" else "failed")
                            for sid, r in (update.get("step_results") or {}).items()}
        if node == "evaluate" and update.get("quality"):
            out["score"] = update["quality"][-1].get("combined")
        return out
    if kind == "review":
        return {"type": "review", "review": event.get("review") or {}}
    return None  # the result is published by the executor, once the run has really ended


def is_terminal(event: dict[str, Any]) -> bool:
    return event.get("type") == "status" and event.get("status") in TERMINAL
