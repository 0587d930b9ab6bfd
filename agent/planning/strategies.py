"""Reasoning strategies: CoT (one reasoning pass, then a plan), ToT (k candidates scored, beam kept),
ReAct (no upfront plan: the execute node interleaves reasoning and acting)."""
from __future__ import annotations

import json
import re

from langchain_core.messages import HumanMessage, SystemMessage

from agent.nodes.common import evidence_text, tool_lines
from agent.planning.filling import TAKEN, MissingInput, fill_workflow
from agent.planning.free_plan import free_plan, score_plan
from agent.planning.routing.reading import rules_route
from agent.planning.slots import SlotValue
from agent.prompts import prompt
from agent.runtime import Runtime
from workflows import Plan, WorkflowError
from workflows.plan import REF


def chosen_jobs(state: dict) -> list[str]:
    """The jobs the stored reading delivers (two for a request with two deliverables)."""
    intent = state.get("intent") or {}
    return list((intent.get("reading") or {}).get("jobs") or ([intent["workflow"]] if intent.get("workflow") else []))


def prefixed(plan: Plan, prefix: str) -> list:
    """The plan's steps with ids (and the references to them) prefixed, to sit beside another job's steps."""
    ids = {s.id for s in plan.steps}

    def rename(value):
        if isinstance(value, str):
            return REF.sub(lambda m: "${" + _ref(m.group(1).strip()) + "}", value)
        if isinstance(value, dict):
            return {k: rename(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return value

    def _ref(ref: str) -> str:
        parts = ref.split(".")
        if parts[0] == "steps" and len(parts) > 1 and parts[1] in ids:
            parts[1] = prefix + parts[1]
        return ".".join(parts)

    return [s.model_copy(update={"id": prefix + s.id, "args": rename(s.args), "foreach": rename(s.foreach),
                                 "depends_on": [prefix + d for d in s.depends_on if d in ids]}) for s in plan.steps]


def linked(value):
    """Markers of values taken from an earlier job → the references to that job's step output."""
    if isinstance(value, str):
        return re.sub(r"<taken from (steps\.[\w.-]+)>", lambda m: "${" + m.group(1) + "}", value)
    if isinstance(value, dict):
        return {k: linked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [linked(v) for v in value]
    return value


def step_prefix(jobs: list[str], index: int) -> str:
    """The prefix of job `index`'s step ids in a plan of several jobs (the first job keeps its ids)."""
    return f"{jobs[index]}_" if index else ""


def taken_from_earlier(rt: Runtime, jobs: list[str], index: int) -> dict[str, SlotValue]:
    """The parameters of job `index` that an earlier job makes: a parameter that `takes` a kind an earlier
    job `gives` reads that job's step output (the nearest earlier job wins), e.g. the line to voice is the
    text the write job wrote."""
    given: dict[str, SlotValue] = {}
    for name, param in rt.workflows[jobs[index]].parameters.items():
        for k in range(index - 1, -1, -1):
            ref = rt.workflows[jobs[k]].gives.get(param.takes or "")
            if ref:
                head, _, rest = ref.strip()[2:-1].strip().partition(".")  # "steps", "<id>.<field>"
                # A marker, not yet a reference: the job's own plan checks that every step it reads is its own.
                given[name] = SlotValue(value=TAKEN.format(f"{head}.{step_prefix(jobs, k)}{rest}"), source="derived",
                                        evidence=f"the {param.takes} that {jobs[k]} makes")
                break
    return given


def plan_jobs(rt: Runtime, state: dict, reasoning: str = "") -> Plan | None:
    """A request with two deliverables: each job filled from the same request, the later job's steps
    prefixed with its name, in the order the request gives them. A value a later job needs that an
    earlier job makes is taken from it (`taken_from_earlier`), not asked."""
    jobs = [j for j in chosen_jobs(state) if j in rt.workflows]
    if len(jobs) < 2:
        return None
    plans = [fill_workflow(rt, rt.workflows[j], state, reasoning, given=taken_from_earlier(rt, jobs, i))
             for i, j in enumerate(jobs)]  # MissingInput: a question
    steps = list(plans[0].steps)
    for i, plan in enumerate(plans[1:], start=1):
        steps += prefixed(plan, step_prefix(jobs, i))
    steps = [s.model_copy(update={"args": linked(s.args)}) for s in steps]
    params = linked({**plans[0].params, **{job: plan.params for job, plan in zip(jobs[1:], plans[1:])}})
    merged = Plan(goal=plans[0].goal, workflow=jobs[0], params=params, steps=steps, jobs=jobs,
                  slots=linked({job: plan.slots for job, plan in zip(jobs, plans)}),
                  reasoning=f"two deliverables: {' then '.join(jobs)}")
    return merged


def _reason(rt: Runtime, state: dict) -> str:
    intent = state.get("intent") or {}
    msg = prompt("cot_reasoning", request=state["request"],
                 intent=json.dumps({k: intent.get(k) for k in ("goal", "task", "film", "scene", "characters")}),
                 evidence=evidence_text(state.get("evidence") or [], 4, 300),
                 tools=", ".join(t.name for t in rt.router.relevant_tools(state["request"], k=8)))
    # The embedded 135M model rambles to its token limit; a few steps are all it can say that helps.
    extra = {"max_tokens": 128} if rt.llm_is_tiny else {}
    reply = rt.llm.invoke([SystemMessage(content=prompt("system")), HumanMessage(content=msg)], **extra)
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    return text.strip()[:1500]


def plan_cot(rt: Runtime, state: dict) -> Plan:
    multi = plan_jobs(rt, state)
    if multi is not None:
        multi.strategy = "cot"
        return multi
    wf_name = (state.get("intent") or {}).get("workflow")
    wf = rt.workflows.get(wf_name or "")
    if wf is not None and (not wf.steps or rt.llm_is_tiny):
        # Nothing to reason about (a job answered from knowledge/the web), or the embedded 135M model,
        # whose reasoning only adds noise to the fill and costs tens of seconds on two cores.
        reasoning = "answer from evidence" if not wf.steps else ""
        rt.trace.event("cot.skipped", workflow=wf.name, reason="no steps" if not wf.steps else "embedded model")
    else:
        reasoning = _reason(rt, state)
    plan = fill_workflow(rt, wf, state, reasoning) if wf is not None else free_plan(rt, state, reasoning)
    plan.strategy, plan.reasoning = "cot", reasoning
    return plan


def plan_tot(rt: Runtime, state: dict) -> Plan:
    """k candidates (the routed job, the other jobs the request points at, alternative fillings, a free
    plan), each scored."""
    multi = plan_jobs(rt, state)
    if multi is not None:  # the request names both jobs: nothing to choose between
        multi.strategy = "tot"
        return multi
    k = rt.settings.agent.tot_candidates
    route = rules_route(rt, state)
    chosen = (state.get("intent") or {}).get("workflow")
    jobs = list(dict.fromkeys(([chosen] if chosen else []) + route.candidates))
    conf = dict(route.ranking)
    ranked = [(name, conf.get(name, 0.0)) for name in jobs if name in rt.workflows]
    candidates: list[tuple[Plan, float]] = []
    for i in range(k):
        try:
            candidates.append(_tot_candidate(rt, state, ranked, candidates, i))
        except WorkflowError as exc:
            if isinstance(exc, MissingInput) and i == 0 and chosen:
                raise  # the routed job lacks an input: ask, do not plan another job instead
            # any other candidate that cannot be filled is dropped, not fatal
            rt.trace.event("tot.candidate_dropped", index=i, error=str(exc)[:300])
    if not candidates:
        raise WorkflowError("no candidate plan could be built")
    return _pick(rt, state, candidates)


def _tot_candidate(rt: Runtime, state: dict, ranked: list[tuple[str, float]], candidates: list,
                   i: int) -> tuple[Plan, float]:
    """Candidate i: the i-th job the request points at, else another filling of the first, else a free plan."""
    if i < len(ranked):
        name, conf = ranked[i]
        return fill_workflow(rt, rt.workflows[name], state), conf
    if candidates and ranked:
        name, conf = ranked[0]
        return fill_workflow(rt, rt.workflows[name], state, temperature_hint=i), conf
    return free_plan(rt, state), 0.0


def _pick(rt: Runtime, state: dict, candidates: list[tuple[Plan, float]]) -> Plan:
    scored = []
    for idx, (plan, sim) in enumerate(candidates):
        score, reasons = score_plan(rt, plan, state, sim)
        scored.append((score, idx, plan, reasons))
        rt.trace.event("tot.candidate", index=idx, workflow=plan.workflow, steps=[s.tool for s in plan.steps],
                       score=score, reasons=reasons)
    scored.sort(key=lambda t: (-t[0], t[1]))
    beam = scored[: rt.settings.agent.tot_beam]
    best = beam[0][2]
    best.strategy = "tot"
    best.reasoning = "; ".join(f"candidate {i}: {p.workflow or 'free'} scored {s:.2f}" for s, i, p, _ in scored)
    return best


def plan_react(rt: Runtime, state: dict) -> Plan:
    # ReAct decides one action at a time in the execute node; the plan records the tool menu.
    tools = rt.router.relevant_tools(state["request"], k=8)
    return Plan(goal=state["request"], strategy="react", reasoning="act-observe loop over: " + tool_lines(tools, 8))


STRATEGIES = {"cot": plan_cot, "tot": plan_tot, "react": plan_react}
