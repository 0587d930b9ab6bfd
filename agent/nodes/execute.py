"""execute: run the plan's DAG one step per graph step (so every finished step is checkpointed),
or, under ReAct, let the model pick one tool at a time from what it has observed."""
from __future__ import annotations

from typing import Any

from agent.nodes.common import traced
from agent.nodes.converge import consumed, fingerprint, unchanged_repair
from agent.nodes.react import react_step
from agent.runtime import Runtime
from agent.state import StepResult
from tools.core.registry import ToolOutcome, invoke
from workflows import Plan
from workflows.plan import ReferenceError_, lookup, resolve_refs


def step_scope(state: dict) -> dict[str, Any]:
    """What `${...}` references can see: params, finished steps' outputs, the run."""
    steps: dict[str, Any] = {}
    for sid, res in (state.get("step_results") or {}).items():
        if res.get("ok"):
            value = res.get("result")
            steps[sid] = {**value, "summary": res.get("summary", "")} if isinstance(value, dict) else value
    plan = state.get("plan") or {}
    run = {"film": state.get("film"), "request": state.get("request"), "iteration": state.get("iteration", 0),
           "feedback": state.get("feedback") or [], "run_id": state.get("run_id")}
    return {"params": plan.get("params", {}), "steps": steps, "run": run}


def _merge_outcomes(step_id: str, tool: str, outcomes: list[ToolOutcome], iteration: int, optional: bool) -> StepResult:
    ok = all(o.ok for o in outcomes)
    errors = [o.error for o in outcomes if not o.ok]
    return StepResult(
        step_id=step_id, tool=tool, ok=ok, iteration=iteration, optional=optional,
        summary=f"{sum(o.ok for o in outcomes)}/{len(outcomes)} succeeded" if len(outcomes) != 1 else outcomes[0].summary,
        result={"items": [o.result for o in outcomes]} if len(outcomes) != 1 else outcomes[0].result,
        error="; ".join(e for e in errors if e)[:1000] or None,
        error_kind=next((o.error_kind for o in outcomes if not o.ok), None),
        hint=next((o.hint for o in outcomes if not o.ok), ""),
        seconds=round(sum(o.seconds for o in outcomes), 4),
        artifacts=[a.model_dump(mode="json") for o in outcomes for a in o.artifacts],
    )


def run_step(step, state: dict, rt: Runtime) -> StepResult:
    iteration = state.get("iteration", 0)
    results = state.get("step_results") or {}
    failed_deps = [d for d in step.depends_on if not results.get(d, {}).get("ok")]
    if failed_deps:
        return StepResult(step_id=step.id, tool=step.tool, ok=False, iteration=iteration, optional=step.optional,
                          error=f"skipped: depends on failed steps {failed_deps}", error_kind="skipped")
    scope = step_scope(state)
    try:
        if step.foreach:
            items = lookup(step.foreach.strip()[2:-1], scope)
            if not isinstance(items, list):
                raise ReferenceError_(f"foreach of {step.id} is not a list")
            calls = [resolve_refs(step.args, {**scope, "item": item}) for item in items]
        else:
            calls = [resolve_refs(step.args, scope)]
    except ReferenceError_ as exc:
        return StepResult(step_id=step.id, tool=step.tool, ok=False, iteration=iteration, optional=step.optional,
                          error=str(exc), error_kind="reference")
    outcomes = [invoke(step.tool, args, rt.ctx, step=step.id) for args in calls]
    if not outcomes:  # foreach over an empty list succeeds with no items
        return StepResult(step_id=step.id, tool=step.tool, ok=True, iteration=iteration, summary="no items",
                          result={"items": []}, optional=step.optional)
    return _merge_outcomes(step.id, step.tool, outcomes, iteration, step.optional)


@traced("execute")
def execute(state: dict, rt: Runtime) -> dict:
    plan = Plan.model_validate(state.get("plan") or {})
    if plan.strategy == "react":
        return react_step(state, rt)
    pending = list(state.get("pending") or [])
    if not pending:
        return {}
    step = plan.step(pending[0])
    result = run_step(step, state, rt)
    if result.ok:
        result.fingerprint = fingerprint(result.result, consumed(plan.steps, step.id))
        before = (state.get("fingerprints") or {}).get(step.id)
        result.unchanged = result.iteration > 0 and before == result.fingerprint
    rt.trace.event("step.done", step=step.id, tool=step.tool, ok=result.ok, error=result.error,
                   seconds=result.seconds, iteration=result.iteration, fingerprint=result.fingerprint)
    dumped = result.model_dump(mode="json")
    update = {"step_results": {step.id: dumped}, "pending": pending[1:], "artifacts": result.artifacts,
              "fingerprints": {step.id: result.fingerprint}}
    stop = unchanged_repair(step.id, step.tool, dumped, state)
    if stop:
        rt.trace.event("loop.stop", step=step.id, iteration=result.iteration, fingerprint=result.fingerprint,
                       skipped=pending[1:], reason=stop)
        update["pending"] = []
        update["status"] = "no_progress"
        update["stop_reason"] = stop
    return update


def more_to_run(state: dict) -> bool:
    plan = state.get("plan") or {}
    if plan.get("strategy") == "react":
        return not state.get("final_answer") and state.get("status") != "react_done"
    return bool(state.get("pending"))
