"""reflect/replan: redo only what failed or what the evaluation blamed (and what depends on it)."""
from __future__ import annotations

import json

from langchain_core.messages import HumanMessage, SystemMessage

from agent.nodes.common import traced
from agent.prompts import prompt
from agent.runtime import Runtime
from tools.core.findings import Code, Finding, findings
from tools.core.registry import get_tool
from tools.core.structured_output import StructuredOutputError, invoke_structured
from workflows import Plan

MAX_NEW = 16  # findings one evaluation hands on
MAX_FEEDBACK = 48  # findings kept over all iterations


def downstream(plan: Plan, roots: set[str]) -> set[str]:
    out = set(roots)
    changed = True
    while changed:
        changed = False
        for step in plan.steps:
            if step.id not in out and out & set(step.depends_on):
                out.add(step.id)
                changed = True
    return out


def _fix_args(rt: Runtime, plan: Plan, step_id: str, res: dict) -> bool:
    """Ask the model for corrected arguments of one failing free-plan step (validated by the tool schema)."""
    step = plan.step(step_id)
    try:
        spec = get_tool(step.tool)
    except Exception:
        return False
    msg = prompt("fix_args", step=step.id, tool=step.tool, error=res.get("error"), args=json.dumps(step.args),
                 schema=json.dumps(spec.args_model.model_json_schema())[:1500])
    try:
        fixed = invoke_structured(rt.llm, [SystemMessage(content=prompt("system")), HumanMessage(content=msg)],
                                  spec.args_model, retries=1, trace=rt.trace, purpose=f"fix_args:{step.id}")
    except StructuredOutputError:
        return False
    step.args = fixed.model_dump(mode="json", exclude_defaults=True)
    return True


def new_findings(last: dict) -> list[dict]:
    """The failing reports' findings, tagged with the iteration that found them (reasons for reports without)."""
    out: list[Finding] = []
    for rep in last.get("reports", []):
        if rep.get("passed"):
            continue
        found = findings(rep.get("findings") or [])
        if not found:
            blame = (rep.get("blame") or [""])[0]
            found = [Finding(code=Code.note, message=r, blame=blame) for r in rep.get("reasons", [])]
        out += found
    iteration = last.get("iteration", 0)
    return [f.model_copy(update={"iteration": iteration}).model_dump(mode="json") for f in out][:MAX_NEW]


@traced("reflect")
def reflect(state: dict, rt: Runtime) -> dict:
    plan = Plan.model_validate(state.get("plan") or {})
    last = (state.get("quality") or [{}])[-1]
    results = state.get("step_results") or {}
    fresh = new_findings(last)
    # Every iteration's findings travel on: a repair must not undo an earlier one (e.g. a re-voiced speaker).
    earlier = [f.model_dump(mode="json") for f in findings(state.get("feedback") or [])]
    feedback = (earlier + fresh)[-MAX_FEEDBACK:]
    iteration = state.get("iteration", 0) + 1
    if plan.strategy == "react":
        return {"iteration": iteration, "status": "running", "react_steps": 0, "feedback": feedback,
                "final_answer": ""}
    failing = {sid for sid, res in results.items() if not res.get("ok") and not res.get("optional")
               and any(s.id == sid for s in plan.steps)}
    blamed: set[str] = set()
    wf = rt.workflows.get(plan.workflow or "")
    tags = {t for rep in last.get("reports", []) if not rep.get("passed") for t in rep.get("blame", [])}
    tags |= {f["blame"] for f in fresh if f.get("blame")}
    for tag in tags:
        if wf and tag in wf.on_blame:
            blamed.update(wf.on_blame[tag])
        elif any(s.id == tag for s in plan.steps):
            blamed.add(tag)
    if not plan.workflow:
        for sid in sorted(failing):
            if results[sid].get("error_kind") in ("validation", "tool", "unknown_tool"):
                _fix_args(rt, plan, sid, results[sid])
    redo = downstream(plan, failing | blamed)
    steps = [s for s in plan.steps if s.id in redo]
    order = rt.ctx.scheduler.order(steps) if steps else []
    rt.trace.event("reflect.replan", iteration=iteration, failing=sorted(failing), blamed=sorted(blamed),
                   redo=order, codes=sorted({f["code"] for f in fresh}), feedback=[f["message"] for f in fresh][:8])
    if not order:
        return {"iteration": iteration, "status": "no_progress", "feedback": feedback}
    return {"iteration": iteration, "pending": order, "feedback": feedback, "plan": plan.model_dump(mode="json"),
            "status": "running", "redo_roots": sorted(failing | blamed)}


def route_after_reflect(state: dict) -> str:
    return "finish" if state.get("status") == "no_progress" else "execute"
