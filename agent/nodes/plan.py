"""plan: pick the strategy (ReAct / CoT / ToT), produce a Plan, order it for the scheduler — or, when the
request leaves out what its job needs, the question to ask (agent/planning/questions.py, asked by the
ask node), never an answer from knowledge in place of the file that was asked for."""
from __future__ import annotations

import json

from agent.nodes.common import traced
from agent.planning.filling import MissingInput
from agent.planning.questions import PendingQuestion, choice_question, film_question, missing_question
from agent.planning.readiness import preflight
from agent.planning.routing.reading import run_lists
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
    job = (state.get("intent") or {}).get("workflow")
    return Plan(goal=state["request"], strategy=strategy, reasoning=why, workflow=job if job in rt.workflows else None)


def delivers_files(rt: Runtime, plan: Plan) -> bool:
    """The plan's job makes files (it has steps): a plan of it without steps is a failure, never an answer."""
    wf = rt.workflows.get(plan.workflow or "")
    return bool(wf and wf.steps)


def _jobs(state: dict) -> list[str]:
    intent = state.get("intent") or {}
    return list((intent.get("reading") or {}).get("jobs") or ([intent["workflow"]] if intent.get("workflow") else []))


def vague_question(rt: Runtime, state: dict) -> PendingQuestion | None:
    """An order no job claims but that names something (a scene, a character): which job? Asked whatever
    the run, since answering from knowledge would not give back what was asked for."""
    reading = (state.get("intent") or {}).get("reading") or {}
    if state.get("answers", {}).get("__job__") or reading.get("method") != "fallback" or reading.get("question"):
        return None
    offered = [j for j in reading.get("takers") or [] if j in rt.workflows][:3]
    if not offered:
        return None
    return choice_question([(j, rt.workflows[j].title) for j in offered],
                           f"the request names {reading.get('names_what')} but not what to make of it",
                           state["request"])


def close_question(rt: Runtime, state: dict) -> PendingQuestion | None:
    """Two jobs read the request about equally well: ask, when a person is there to answer."""
    reading = (state.get("intent") or {}).get("reading") or {}
    close = reading.get("close")
    chosen = (state.get("intent") or {}).get("workflow")
    if not close or not chosen or not state.get("interactive") or state.get("answers", {}).get("__job__"):
        return None
    return choice_question([(chosen, rt.workflows[chosen].title), (close, rt.workflows[close].title)],
                           "two jobs read this request about equally well", state["request"])


def other_readings(rt: Runtime, state: dict) -> list[str]:
    """A close second job the run did not take (no person to ask), with the command that takes it."""
    close = ((state.get("intent") or {}).get("reading") or {}).get("close")
    if not close or state.get("interactive") or close not in rt.workflows:
        return []
    request = state["request"].replace('"', "'")
    film = f" --film {state['film']}" if state.get("film") else ""
    return [f"{rt.workflows[close].title or close}: animstudio run \"{request}\"{film} --job {close}"]


def _question(rt: Runtime, state: dict, strategy: str) -> tuple[Plan | None, PendingQuestion | None]:
    """The plan, or the question that comes before it."""
    jobs = _jobs(state)
    asked = vague_question(rt, state) or close_question(rt, state)
    if asked is not None:
        return None, asked
    for job in jobs:
        wf = rt.workflows[job]
        if wf.needs_film and not state.get("film") and strategy != "react":
            return None, film_question(wf, rt.settings, jobs)
    try:
        return STRATEGIES[strategy](rt, state), None
    except MissingInput as exc:
        _, datasets = run_lists(rt)
        from agent.planning.filling import run_inputs

        return None, missing_question(exc.workflow, exc.missing, exc.values, jobs, datasets, run_inputs(rt, state))


@traced("plan")
def plan(state: dict, rt: Runtime) -> dict:
    strategy = state.get("strategy") or rt.strategy
    question = None
    try:
        result, question = _question(rt, state, strategy)
    except WorkflowError as exc:  # e.g. a required parameter the model could not fill
        result = _cannot_plan(rt, state, strategy, str(exc))
    if question is not None:
        question.run_id, question.request = state.get("run_id"), state["request"]
        rt.trace.event("plan.question", asked=question.kind, job=question.job, parameters=question.parameters,
                       options=[o.key for o in question.options])
        return {"question": question.model_dump(mode="json"), "pending": [], "strategy": strategy,
                "plan": Plan(goal=state["request"], workflow=question.job, strategy=strategy, jobs=question.jobs,
                             reasoning=f"needs input: {question.question}").model_dump(mode="json")}
    annotate_resources(result)
    result.other_readings = other_readings(rt, state)
    refusal = preflight(result, rt.workflows, rt.settings, bool(state.get("film")))
    order = rt.ctx.scheduler.order(result.steps) if result.steps and not refusal else []
    data = result.model_dump(mode="json")
    (rt.ctx.workspace.root / "plan.json").write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    rt.trace.event("plan.done", strategy=strategy, workflow=result.workflow, steps=[s.id for s in result.steps],
                   order=order)
    update = {"plan": data, "pending": order, "strategy": strategy, "iteration": state.get("iteration", 0),
              "question": None}
    if refusal:  # the right plan, stopped before a tool whose model is not configured
        rt.trace.event("plan.refused", workflow=result.workflow, step=refusal.step, tool=refusal.tool,
                       settings=refusal.settings(), problems=[u.problem for u in refusal.unmet])
        update["refusal"] = refusal.model_dump(mode="json")
    elif not result.steps and delivers_files(rt, result) and strategy != "react":
        # The job was understood but could not be planned: say so and stop, rather than answer in prose.
        wf = rt.workflows[result.workflow or ""]
        update["stop_reason"] = f"I could not plan “{wf.title or wf.name}”: {result.reasoning}"
    elif not result.steps and result.reasoning and strategy != "react" and not _answers_only(rt, result):
        update["feedback"] = [Finding(code=Code.note, message=result.reasoning).model_dump(mode="json")]
    return update


def _answers_only(rt: Runtime, plan: Plan) -> bool:
    """A job answered from knowledge or the web: no steps is the plan, not a failure to plan."""
    wf = rt.workflows.get(plan.workflow or "")
    return bool(wf and not wf.steps)


def after_plan(state: dict) -> str:
    if state.get("question"):
        return "ask"
    return "finish" if state.get("refusal") or state.get("stop_reason") else "execute"


__all__ = ["after_plan", "annotate_resources", "plan"]
