"""plan: pick the strategy (ReAct / CoT / ToT), produce a Plan, order it for the scheduler."""
from __future__ import annotations

import json

from agent.nodes.common import traced
from agent.planning.readiness import preflight
from agent.planning.strategies import STRATEGIES
from agent.runtime import Runtime
from tools.core.findings import Code, Finding
from tools.core.registry import get_tool
from workflows import Plan, WorkflowError


def annotate_resources(plan) -> None:
    for step in plan.steps:
        try:
            step.resources = list(get_tool(step.tool).resources)
        except Exception:
            step.resources = []


def _cannot_plan(rt: Runtime, state: dict, strategy: str, why: str) -> Plan:
    rt.trace.event("plan.impossible", reason=why)
    return Plan(goal=state["request"], strategy=strategy, reasoning=why)


@traced("plan")
def plan(state: dict, rt: Runtime) -> dict:
    strategy = state.get("strategy") or rt.strategy
    wf_name = (state.get("intent") or {}).get("workflow")
    if wf_name and rt.workflows[wf_name].needs_film and not state.get("film") and strategy != "react":
        result = _cannot_plan(rt, state, strategy, f"The {wf_name} workflow needs a film: run again with "
                                                   "--film PATH (or Agent().run(..., film=PATH)).")
    else:
        try:
            result = STRATEGIES[strategy](rt, state)
        except WorkflowError as exc:  # e.g. a required parameter the model could not fill
            result = _cannot_plan(rt, state, strategy, str(exc))
    annotate_resources(result)
    refusal = preflight(result, rt.workflows, rt.settings, bool(state.get("film")))
    order = rt.ctx.scheduler.order(result.steps) if result.steps and not refusal else []
    data = result.model_dump(mode="json")
    (rt.ctx.workspace.root / "plan.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    rt.trace.event("plan.done", strategy=strategy, workflow=result.workflow, steps=[s.id for s in result.steps],
                   order=order)
    update = {"plan": data, "pending": order, "strategy": strategy, "iteration": state.get("iteration", 0)}
    if refusal:  # the right plan, stopped before a tool whose model is not configured
        rt.trace.event("plan.refused", workflow=result.workflow, step=refusal.step, tool=refusal.tool,
                       settings=refusal.settings(), problems=[u.problem for u in refusal.unmet])
        update["refusal"] = refusal.model_dump(mode="json")
    elif not result.steps and result.reasoning and strategy != "react" and not _answers_only(rt, result):
        update["feedback"] = [Finding(code=Code.note, message=result.reasoning).model_dump(mode="json")]
    return update


def _answers_only(rt: Runtime, plan: Plan) -> bool:
    """A job answered from knowledge or the web: no steps is the plan, not a failure to plan."""
    wf = rt.workflows.get(plan.workflow or "")
    return bool(wf and not wf.steps)


def after_plan(state: dict) -> str:
    return "finish" if state.get("refusal") else "execute"
