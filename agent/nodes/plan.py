"""plan: pick the strategy (ReAct / CoT / ToT), produce a Plan, order it for the scheduler."""
from __future__ import annotations

import json

from tools.registry import get_tool

from agent.nodes.common import traced
from agent.planning.strategies import STRATEGIES
from agent.runtime import Runtime


def annotate_resources(plan) -> None:
    for step in plan.steps:
        try:
            step.resources = list(get_tool(step.tool).resources)
        except Exception:
            step.resources = []


@traced("plan")
def plan(state: dict, rt: Runtime) -> dict:
    strategy = state.get("strategy") or rt.strategy
    result = STRATEGIES[strategy](rt, state)
    annotate_resources(result)
    order = rt.ctx.scheduler.order(result.steps) if result.steps else []
    data = result.model_dump(mode="json")
    (rt.ctx.workspace.root / "plan.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    rt.trace.event("plan.done", strategy=strategy, workflow=result.workflow, steps=[s.id for s in result.steps],
                   order=order)
    return {"plan": data, "pending": order, "strategy": strategy, "iteration": state.get("iteration", 0)}
