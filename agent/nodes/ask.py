"""ask: the run waits for a person's answer to the plan's question (needs_input), then plans again.

The same pause as the review (agent/nodes/review.py): `interrupt()` with the question as its payload,
kept in the checkpoint however long the person takes; `Command(resume=answer)` continues the run
(Agent.resume(run_id, answer=...), `animstudio answer`, chat, the studio's form, POST /runs/{id}/input).
A node re-runs from its start when resumed, so the question is read from the state, not rebuilt.
"""
from __future__ import annotations

import json
from typing import Any

from langgraph.types import interrupt

from agent.nodes.common import traced
from agent.planning.questions import FILM_KEY, JOB_KEY, AnswerError, PendingQuestion, resolve_answer
from agent.planning.routing.reading import run_lists
from agent.runtime import Runtime


@traced("ask")
def ask(state: dict, rt: Runtime) -> dict:
    question = PendingQuestion.model_validate(state["question"])
    rt.trace.event("ask.wait", asked=question.kind, job=question.job, parameters=question.parameters)
    answer = interrupt(question.model_dump(mode="json"))
    _, datasets = run_lists(rt)
    parsed, values = resolve_answer(question, answer, state["request"], datasets, stated_start=stated_start(state))
    rt.trace.event("ask.answer", asked=question.kind, option=parsed.option, parameters=sorted(values))
    update: dict[str, Any] = {"question": None, "answers": {k: v for k, v in values.items() if k != FILM_KEY}}
    if FILM_KEY in values:  # the film the run lacked
        rt.ctx.workspace.allow_file(values[FILM_KEY])
        update["film"] = values[FILM_KEY]
    for name, value in values.items():  # a folder given in the answer: readable by the tools, kept for resume
        if question.kind == "refs" and name != JOB_KEY and isinstance(value, str):
            rt.ctx.workspace.allow_file(value)
            update["inputs"] = [value]
            _remember_input(rt, value)
    if JOB_KEY in values:
        intent = dict(state.get("intent") or {})
        reading = dict(intent.get("reading") or {})
        intent["workflow"], reading["jobs"], reading["close"] = values[JOB_KEY], [values[JOB_KEY]], None
        reading["method"] = "answer"
        intent["reading"] = reading
        update["intent"] = intent
    return update


def stated_start(state: dict) -> float | None:
    """A start the request gave ("a clip starting at 1:20"): an answer may give only the end."""
    slots = ((state.get("intent") or {}).get("slots") or {}).get("found") or {}
    start = slots.get("start_s") or slots.get("at")
    return float(start["value"]) if start and isinstance(start.get("value"), (int, float)) else None


def _remember_input(rt: Runtime, path: str) -> None:
    from agent.checkpoints import INPUTS_FILE

    file = rt.ctx.workspace.root / INPUTS_FILE
    try:
        named = json.loads(file.read_text(encoding="utf-8")) if file.exists() else []
    except ValueError:
        named = []
    if path not in named:
        file.write_text(json.dumps([*named, path]), encoding="utf-8")


__all__ = ["AnswerError", "ask"]
