"""review: a person approves, edits or rejects a step's result before the run goes on (agent.review).

The workflow names its review points (`review:` in its YAML). After such a step finishes, the graph
routes here and `interrupt()` pauses the run: the checkpoint keeps it, however long the person takes,
and `Command(resume=decision)` continues it (Agent.resume(run_id, review=...), the CLI, the studio).
A node re-runs from its start when resumed, so the payload is rebuilt from state, deterministically.
"""
from __future__ import annotations

import json
from typing import Any, Literal

from langgraph.types import interrupt
from pydantic import BaseModel, Field, ValidationError

from agent.nodes.common import traced
from agent.runtime import Runtime
from tools.core.types import ToolError
from workflows.loader import ReviewPoint


class EditedLine(BaseModel):
    character: str = Field(max_length=40)
    text: str = Field(max_length=200)


class ReviewDecision(BaseModel):
    """What the person decided. `edit` carries the new script (title, lines) or the scene they picked."""

    action: Literal["approve", "edit", "reject"]
    title: str | None = Field(None, max_length=60)
    lines: list[EditedLine] | None = Field(None, max_length=12)
    scene: int | None = Field(None, description="the picked candidate's scene index (scene review)")
    note: str = Field("", max_length=500)


class ReviewError(ValueError):
    """A decision that does not fit the pending review; the message says what to change."""


def _points(state: dict, rt: Runtime) -> list[ReviewPoint]:
    workflow = rt.workflows.get((state.get("plan") or {}).get("workflow") or "")
    return list(workflow.review) if workflow else []


def _scene_unsure(point: ReviewPoint, result: dict) -> tuple[bool, str]:
    matches = result.get("matches") or []
    if not matches:
        return False, ""
    if "ambiguous" in result:  # find_scene judged it: confidence of the best against every other scene
        runner = result.get("runner_up") or {}
        return bool(result["ambiguous"]), (f"confidence {result.get('confidence', 0):.2f}: the runner-up "
                                           f"#{(runner.get('scene') or {}).get('index')} is close" if runner else "")
    best = float(matches[0].get("confidence", matches[0].get("score", 0.0)))
    runner = float(matches[1].get("confidence", matches[1].get("score", 0.0))) if len(matches) > 1 else None
    if best < point.min_score:
        return True, f"the best match scores {best:.2f}, below {point.min_score:.2f}"
    if runner is not None and best - runner < point.min_margin:
        return True, f"the runner-up is close: {best:.2f} vs {runner:.2f}"
    return False, ""


def due_point(state: dict, rt: Runtime) -> ReviewPoint | None:
    """The review point whose step just finished in this iteration and has not been reviewed yet. With review
    off, an interactive run (a person at a terminal, in chat) still stops at an unsure scene search."""
    if not state.get("review") and not state.get("interactive"):
        return None
    iteration = state.get("iteration", 0)
    done = {(r.get("step"), r.get("iteration")) for r in state.get("reviews") or []}
    results = state.get("step_results") or {}
    for point in _points(state, rt):
        res = results.get(point.step) or {}
        if not res.get("ok") or res.get("iteration", 0) != iteration or (point.step, iteration) in done:
            continue
        if point.when == "unsure" and not _scene_unsure(point, res.get("result") or {})[0]:
            continue
        if point.when != "unsure" and not state.get("review"):
            continue
        return point
    return None


def review_payload(point: ReviewPoint, state: dict) -> dict[str, Any]:
    """What the person sees: the script to read, or the candidate scenes with their keyframes."""
    result = (state.get("step_results") or {})[point.step].get("result") or {}
    base = {"kind": point.kind, "step": point.step, "iteration": state.get("iteration", 0),
            "run_id": state.get("run_id"), "request": state.get("request")}
    if point.kind == "script":
        script = result.get("script") or {}
        return {**base, "title": script.get("title", ""), "lines": script.get("lines", []),
                "effects": script.get("effects", []), "source": result.get("source", ""), "why": result.get("why", ""),
                "footage_duration": result.get("footage_duration"), "characters": result.get("characters", [])}
    _, why = _scene_unsure(point, result)
    candidates = [{"scene": m["scene"].get("index"), "start": m["scene"].get("start"), "end": m["scene"].get("end"),
                   "description": m["scene"].get("description", ""), "keyframe": m["scene"].get("keyframe"),
                   "score": m.get("confidence", m.get("score"))} for m in result.get("matches") or []]
    return {**base, "query": result.get("query", ""), "why": why, "candidates": candidates}


def check_decision(payload: dict[str, Any], decision: dict[str, Any] | ReviewDecision) -> ReviewDecision:
    """Validate a decision against the pending review (the CLI and the studio call this before resuming)."""
    try:
        parsed = decision if isinstance(decision, ReviewDecision) else ReviewDecision.model_validate(decision)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ReviewError(f"{'.'.join(str(p) for p in err['loc']) or 'decision'}: {err['msg']}") from None
    if parsed.action != "edit":
        return parsed
    if payload.get("kind") == "script":
        if not parsed.lines and not parsed.title:
            raise ReviewError("an edit of the script needs its lines (or a new title)")
        if parsed.scene is not None:
            raise ReviewError("this review is of the script: pick no scene")
        shown = {"script": {"title": payload.get("title", ""), "lines": payload.get("lines", []),
                            "effects": payload.get("effects", [])},
                 "footage_duration": payload.get("footage_duration"), "characters": payload.get("characters", [])}
        _edited_script(shown, parsed)  # the same checks the run will apply: lines that fit the footage
    else:
        known = [c["scene"] for c in payload.get("candidates", [])]
        if parsed.scene not in known:
            raise ReviewError(f"pick one of the candidate scenes {known}, not {parsed.scene!r}")
        if parsed.lines:
            raise ReviewError("this review is of the scene: it takes a scene, not script lines")
    return parsed


def _edited_script(result: dict, decision: ReviewDecision) -> dict:
    from tools.parody.script_edit import edit_script

    lines = [(ln.character, ln.text) for ln in decision.lines] if decision.lines else \
        [(ln["character"], ln["text"]) for ln in result["script"]["lines"]]
    try:
        return edit_script(result, decision.title, lines)
    except ToolError as exc:
        raise ReviewError(str(exc)) from None


def _apply_edit(point: ReviewPoint, decision: ReviewDecision, state: dict, rt: Runtime) -> dict:
    res = dict((state.get("step_results") or {})[point.step])
    result = res.get("result") or {}
    update: dict[str, Any] = {}
    if point.kind == "script":
        res["result"] = _edited_script(result, decision)
        res["summary"] = f"edited at the review: {len(res['result']['script']['lines'])} lines"
        out = rt.ctx.workspace.unique_output(f"script_{state.get('iteration', 0)}_edited", ".json", "review")
        out.write_text(json.dumps(res["result"], indent=2, ensure_ascii=False), encoding="utf-8")
        update["artifacts"] = [{"path": rt.ctx.workspace.relative(out), "kind": "json",
                                "metadata": {"what": "parody script", "path": "edited"}}]
    else:
        matches = result.get("matches") or []
        picked = [m for m in matches if m["scene"].get("index") == decision.scene]
        res["result"] = {**result, "matches": picked + [m for m in matches if m not in picked]}
        res["summary"] = f"scene #{decision.scene} picked at the review"
    return {**update, "step_results": {point.step: res}}


@traced("review")
def review(state: dict, rt: Runtime) -> dict:
    point = due_point(state, rt)
    if point is None:
        return {}
    payload = review_payload(point, state)
    rt.trace.event("review.wait", step=point.step, review=point.kind, iteration=payload["iteration"])
    answer = interrupt(payload)
    decision = check_decision(payload, answer)
    record = {"step": point.step, "kind": point.kind, "iteration": payload["iteration"], "action": decision.action,
              "note": decision.note}
    rt.trace.event("review.decision", step=point.step, review=point.kind, action=decision.action,
                   note=decision.note)
    if decision.action == "reject":
        why = f"Stopped at the {point.kind} review: rejected" + (f" ({decision.note})" if decision.note else ".")
        return {"reviews": [record], "status": "rejected", "pending": [], "final_answer": why}
    update: dict[str, Any] = {"reviews": [record]}
    if decision.action == "edit":
        update.update(_apply_edit(point, decision, state, rt))
    return update


def route_after_review(state: dict) -> str:
    from agent.nodes.execute import more_to_run

    if state.get("status") == "rejected":
        return "finish"
    return "execute" if more_to_run(state) else "evaluate"
