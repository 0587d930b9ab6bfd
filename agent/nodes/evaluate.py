"""evaluate: score the iteration by every check the workflow declares (agent/nodes/checks.py).

A workflow run is scored by its checks (all steps succeeded, a file of a kind exists, a scoring step's
report such as the parody's quality gate). A ReAct run or a free plan is scored on its answer: it
addresses the request, names real files, few tool errors. The combined score is the completion
score times the mean of the other reports; any failing report fails the iteration.
"""
from __future__ import annotations

from agent.nodes.checks import CHECKS, answer_report, completion_report
from agent.nodes.common import traced
from agent.runtime import Runtime
from workflows import Plan


def free_answer(state: dict, plan: Plan, rt: Runtime) -> tuple[str, dict]:
    """The answer a ReAct run or a free plan gives: the model's final answer, the step results' summaries,
    or (a plan without steps) the model's reply, kept in the state so `finish` does not ask twice."""
    if state.get("final_answer"):
        return state["final_answer"], {}
    if plan.steps:
        results = state.get("step_results") or {}
        return "\n".join(f"{r.get('summary') or r.get('error') or ''}" for r in results.values()).strip(), {}
    if plan.strategy == "react":
        return "", {}
    from agent.nodes.finish import llm_answer

    answer = llm_answer(state, rt)
    return answer, {"final_answer": answer}


@traced("evaluate")
def evaluate(state: dict, rt: Runtime) -> dict:
    plan = Plan.model_validate(state.get("plan") or {})
    reports = [completion_report(state, plan, rt)]
    update: dict = {}
    wf = rt.workflows.get(plan.workflow or "")
    if wf:
        planned = {s.id for s in plan.steps}  # a partial run is judged on the steps it was planned to run
        reports += [CHECKS[c.kind](c, state, plan, rt) for c in wf.checks
                    if c.kind != "steps_succeeded" and (not getattr(c, "step", None) or c.step in planned)]
    else:
        answer, update = free_answer(state, plan, rt)
        reports.append(answer_report(state, plan, rt, answer))
    combined = reports[0]["score"]
    if len(reports) > 1:
        combined *= sum(r["score"] for r in reports[1:]) / (len(reports) - 1)
    threshold = rt.settings.agent.quality_threshold
    # A failing report (e.g. an unreadable script) fails the iteration whatever the mean says.
    passed = combined >= threshold and all(r["passed"] for r in reports[1:])
    entry = {"iteration": state.get("iteration", 0), "combined": round(combined, 4), "passed": passed,
             "threshold": threshold, "reports": reports}
    rt.trace.event("evaluate.score", **entry)
    return {"quality": [entry], **update}


def route_after_evaluate(state: dict, rt: Runtime) -> str:
    last = (state.get("quality") or [{}])[-1]
    if last.get("passed"):
        return "finish"
    if state.get("iteration", 0) + 1 >= rt.settings.agent.max_iterations:
        rt.trace.event("evaluate.cap", iteration=state.get("iteration", 0), max_iterations=rt.settings.agent.max_iterations)
        return "finish"
    return "reflect"
