"""Test tools and a scripted model for graph tests (imported by tests and by the resume subprocess)."""
from __future__ import annotations

import os
import time
from pathlib import Path

from tools.core.registry import tool
from tools.core.types import Artifact, ToolError, ToolResult


class Note(ToolResult):
    text: str


def _count(name: str) -> int:
    """Append to a counter file named by the env (survives kills and process boundaries)."""
    folder = Path(os.environ.get("ANIMSTUDIO_TEST_COUNTERS", "/tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.count").open("a") as fh:
        fh.write("x")
    return len((folder / f"{name}.count").read_text())


def count_of(folder: Path, name: str) -> int:
    f = folder / f"{name}.count"
    return len(f.read_text()) if f.exists() else 0


@tool(family="test")
def g_write(ctx, text: str, name: str = "note") -> Note:
    """Write a note file.

    Args:
        text: Note text.
        name: File stem.
    """
    _count(f"g_write_{name}")
    path = ctx.workspace.unique_output(name, ".txt")
    path.write_text(text)
    return Note(text=text, artifacts=[Artifact(path=ctx.workspace.relative(path), kind="text")])


@tool(family="test")
def g_flaky(ctx, text: str) -> Note:
    """Fail the first time it is called in a counter folder, then succeed.

    Args:
        text: Passed through.
    """
    if _count("g_flaky") == 1:
        raise ToolError("flaky failure", "try again")
    return Note(text=text.upper())


@tool(family="test")
def g_slow(ctx, text: str) -> Note:
    """Sleep for ANIMSTUDIO_TEST_SLOW seconds (a step to kill a run in).

    Args:
        text: Passed through.
    """
    _count("g_slow")
    time.sleep(float(os.environ.get("ANIMSTUDIO_TEST_SLOW", "0")))
    return Note(text=text)


@tool(family="test")
def g_score(ctx, score: float, blame: str = "draft") -> dict:
    """Report a fixed quality score, blaming one part.

    Args:
        score: The combined score to report.
        blame: The blame tag.
    """
    _count("g_score")
    return {"combined": score, "passed": score >= 0.7, "reasons": [f"scored {score}"], "blame": [blame]}


def handler_for(intent: dict | None = None, params: dict | None = None, react: list | None = None):
    """A scripted model: answers by the requested schema; ReAct actions in order."""
    react = list(react or [])

    def handler(call):
        title = call.schema_title
        if title == "Intent":
            return intent or {"goal": "test", "task": "other"}
        if title and title.endswith("_params"):
            return params or {}
        if title == "ReactAction":
            return react.pop(0) if react else {"thought": "done", "action": "finish", "args": {}, "answer": "all done"}
        if title == "FreePlan":
            return {"steps": []}
        if call.mode in ("chat", "stream"):
            return "1. do the thing"
        return None

    return handler


WORKFLOW = """
name: test_notes
description: write a draft note and a final note about a topic, then score it
examples: [write notes about a topic, take notes]
parameters:
  topic: {type: str, default: "sea", description: the topic}
  tone: {type: str, slot: tone, default: "plain", description: the style of the note}
steps:
  - id: draft
    tool: g_write
    args: {text: "draft about ${params.topic} in a ${params.tone} voice", name: draft}
  - id: polish
    tool: g_flaky
    args: {text: "${steps.draft.text}"}
  - id: final
    tool: g_write
    args: {text: "${steps.polish.text} (take ${run.iteration})", name: final}
  - id: score
    tool: g_score
    args: {score: SCORE, blame: final}
checks:
  - {kind: steps_succeeded}
  - {kind: scorer, step: score, scorer: notes}
on_blame:
  final: [final, score]
answer: "Final note: ${steps.final.text}"
"""

SLOW_WORKFLOW = """
name: test_slow
description: write a note slowly in two steps
examples: [slow note]
steps:
  - id: first
    tool: g_write
    args: {text: "first", name: first}
  - id: slow
    tool: g_slow
    args: {text: "${steps.first.text}"}
  - id: last
    tool: g_write
    args: {text: "${steps.slow.text} and last", name: last}
"""
