"""Helpers shared by the nodes: timing + trace, compact text views of tools and evidence."""
from __future__ import annotations

import functools
import json
import time
from typing import Any, Callable

from langgraph.errors import GraphBubbleUp

from agent.runtime import Runtime
from rag.types import Evidence
from tools.core.registry import ToolSpec


def traced(name: str):
    """Wrap a node: trace its start/end with seconds and stream a node event."""

    def wrap(fn: Callable[[dict, Runtime], dict]):
        @functools.wraps(fn)
        def node(state: dict, runtime: Runtime) -> dict:
            start = time.perf_counter()
            runtime.trace.event("node.start", node=name, iteration=state.get("iteration", 0))
            try:
                update = fn(state, runtime) or {}
            except GraphBubbleUp:  # a review pause (interrupt), not an error
                raise
            except Exception as exc:
                runtime.trace.event("node.error", node=name, error=f"{type(exc).__name__}: {exc}")
                raise
            seconds = round(time.perf_counter() - start, 4)
            runtime.trace.event("node.end", node=name, seconds=seconds, keys=sorted(update))
            return update

        node.node_name = name  # type: ignore[attr-defined]
        return node

    return wrap


def tool_lines(specs: list[ToolSpec], limit: int = 10) -> str:
    return _tool_lines(tuple(specs[:limit]))


@functools.lru_cache(maxsize=64)
def _tool_lines(specs: tuple[ToolSpec, ...]) -> str:
    lines = []
    for spec in specs:
        props = spec.args_model.model_json_schema().get("properties", {})
        args = ", ".join(f"{k}: {v.get('type', 'any')}" for k, v in props.items())
        lines.append(f"- {spec.name}: {spec.description.splitlines()[0][:120]}; ({args})")
    return "\n".join(lines)


def evidence_text(evidence: list[dict], limit: int = 5, chars: int = 400) -> str:
    """Evidence for prompts; untrusted (web) text is fenced as data."""
    out = []
    for item in evidence[:limit]:
        ev = Evidence.model_validate(item)
        body = ev.text[:chars].replace("\n", " ")
        if ev.trusted:
            out.append(f"- [{ev.title or ev.id}] {body}")
        else:
            out.append(f"- [{ev.title or ev.id}] <untrusted source=\"{ev.source}\">{body}</untrusted>")
    return "\n".join(out) or "(none)"


def compact_json(value: Any, chars: int = 600) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= chars else text[: chars - 3] + "..."
