"""finish: the final answer (with artifacts, scores and citations), result.json, past-run memory, report."""
from __future__ import annotations

import json

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from agent.nodes.common import compact_json, evidence_text, traced
from agent.nodes.execute import step_scope
from agent.prompts import prompt
from agent.runtime import Runtime
from rag.types import Evidence
from tools.core.findings import findings
from tools.media.timecode import format_timecode
from workflows import Plan
from workflows.plan import ReferenceError_, resolve_refs


def _templated_answer(state: dict, plan: Plan, rt: Runtime) -> str:
    """The job's answer template; for two deliverables each job's, the later job's steps read by their prefix."""
    from workflows.plan import REF

    out = []
    for n, job in enumerate(plan.jobs or [plan.workflow or ""]):
        wf = rt.workflows.get(job)
        if not wf or not wf.answer:
            continue
        prefix = f"{job}_" if n else ""
        template = REF.sub(lambda m: "${" + (m.group(1).replace("steps.", "steps." + prefix, 1)
                                             if m.group(1).startswith("steps.") else m.group(1)) + "}", wf.answer)
        if n and "${params." in template:
            template = template.replace("${params.", f"${{params.{job}.")
        try:
            out.append(str(resolve_refs(template, step_scope(state))))
        except ReferenceError_:  # a partial run: what its steps did, in their own words
            done = state.get("step_results") or {}
            out += [f"{s.id}: {done[s.id]['summary']}" for s in plan.steps if done.get(s.id, {}).get("summary")]
    return "\n".join(out)


def left_out_note(plan: Plan, rt: Runtime) -> str:
    """What a partial run did not do, and how to give what it lacked."""
    if not plan.left_out:
        return ""
    wf = rt.workflows.get(plan.workflow or "")
    param = wf.parameters.get(plan.left_out_for or "") if wf else None
    need = f"{plan.left_out_for} ({param.description})" if param and param.description else plan.left_out_for
    return (f"Not done, for want of {need}: {', '.join(plan.left_out)}. "
            f"Run the request again with it to go on.")


def llm_answer(state: dict, rt: Runtime) -> str:
    results = {sid: r.get("summary") or r.get("error") for sid, r in (state.get("step_results") or {}).items()}
    msg = prompt("answer", request=state["request"], results=compact_json(results, 800),
                 evidence=evidence_text(state.get("evidence") or [], 5, 400))
    reply = rt.llm.invoke([SystemMessage(content=prompt("system")), HumanMessage(content=msg)])
    return (reply.content if isinstance(reply.content, str) else str(reply.content)).strip()


def _refusal_answer(state: dict, rt: Runtime) -> str:
    from agent.planning.readiness import Refusal

    refusal = Refusal.model_validate(state["refusal"])
    wf = rt.workflows.get(refusal.workflow or "")
    job = f"“{wf.title}”" if wf and wf.title else (wf.name if wf else "a plan")
    return refusal.answer(job)


def not_taken(state: dict, plan: Plan) -> list[str]:
    """What a run nobody could be asked went ahead without: the other reading, a close second scene."""
    notes = [f"I read this one way; another reading — {r}" for r in plan.other_readings]
    told: set[tuple] = set()  # two steps that searched the same scenes the same way are one note
    for sid, res in (state.get("step_results") or {}).items():
        found = res.get("result") if isinstance(res.get("result"), dict) else {}
        runner = (found.get("runner_up") or {}).get("scene") or {}
        if found.get("ambiguous") and runner and not state.get("reviews"):
            start = runner.get("start")
            if (runner.get("index"), start) in told:
                continue
            told.add((runner.get("index"), start))
            at = format_timecode(start, "short") if isinstance(start, (int, float)) else "its time"
            notes.append(f"The scene search was unsure ({sid}): I used the best match; scene #{runner.get('index')} "
                         f"was close — to use it, ask again naming \"the scene at {at}\" (or run with --review).")
    return notes


def compose_answer(state: dict, rt: Runtime) -> str:
    if state.get("refusal"):
        return _refusal_answer(state, rt)
    plan = Plan.model_validate(state.get("plan") or {})
    parts = []
    answer = state.get("final_answer") or _templated_answer(state, plan, rt)
    answered_by_model = [j for j in plan.jobs if j in rt.workflows and not rt.workflows[j].steps]
    unplanned = not plan.steps and bool(state.get("stop_reason"))  # a file was asked for: no prose in its place
    if not unplanned and ((not answer and (not plan.steps or plan.strategy == "react"))
                          or (answered_by_model and not state.get("final_answer"))):
        answer = "\n".join(a for a in (answer, llm_answer(state, rt)) if a)  # e.g. the text a write job asks for
    if answer:
        parts.append(answer)
    if not plan.steps and state.get("feedback") and plan.strategy != "react":
        notes = [f.message for f in findings(state["feedback"]) if f.iteration is None]  # the planner's own words
        if notes:
            parts.append("Note: " + "; ".join(notes)[:400])
    if plan.left_out:
        parts.append(left_out_note(plan, rt))
    parts += not_taken(state, plan)
    failed = [f"{sid} ({r.get('error')})" for sid, r in (state.get("step_results") or {}).items() if not r.get("ok")]
    if failed:
        parts.append("Problems: " + "; ".join(failed)[:600])
    arts = state.get("artifacts") or []
    if arts:
        parts.append("Files: " + ", ".join(a["path"] for a in arts[:12]) + (" …" if len(arts) > 12 else ""))
    q = (state.get("quality") or [])
    if q:
        parts.append(f"Quality score {q[-1]['combined']:.2f} (threshold {q[-1]['threshold']:.2f}) "
                     f"after {len(q)} iteration(s).")
    if state.get("stop_reason"):
        parts.append(state["stop_reason"][:1].upper() + state["stop_reason"][1:])
    # Cite knowledge and web sources; past runs inform the plan but are not sources of facts.
    cites = [Evidence.model_validate(e).citation() for e in state.get("evidence") or []
             if e.get("origin") not in ("notice", "runs") and e.get("kind") != "runs"]
    if cites:
        parts.append("Sources: " + ", ".join(dict.fromkeys(cites[:6])))
    return "\n".join(parts)


@traced("finish")
def finish(state: dict, rt: Runtime) -> dict:
    answer = compose_answer(state, rt)
    q = state.get("quality") or []
    status = "passed" if q and q[-1].get("passed") else ("failed" if q or state.get("stop_reason") else "done")
    if state.get("status") == "rejected":  # stopped at a review by the person
        status = "rejected"
    if state.get("refusal"):
        status = "refused"
    record = {
        "run_id": state.get("run_id"), "request": state.get("request"), "film": state.get("film"),
        "strategy": state.get("strategy"), "status": status, "final_answer": answer,
        "plan": state.get("plan"), "step_results": state.get("step_results") or {},
        "artifacts": state.get("artifacts") or [], "quality": q, "evidence": state.get("evidence") or [],
        "intent": state.get("intent"), "iterations": state.get("iteration", 0) + 1,
    }
    (rt.ctx.workspace.root / "result.json").write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str),
                                                       encoding="utf-8")
    try:  # past runs feed "what worked last time"; memory failing must not fail the run
        from rag.runs import ingest_run

        plan = state.get("plan") or {}
        ingest_run(rt.kb, {"run_id": record["run_id"], "request": record["request"], "film": record["film"],
                           "workflow": plan.get("workflow") or "", "plan": plan, "parameters": plan.get("params", {}),
                           "quality": q[-1]["combined"] if q else None, "status": status,
                           "artifacts": record["artifacts"]})
    except ImportError:
        pass
    except Exception as exc:
        rt.trace.event("finish.memory_error", error=f"{type(exc).__name__}: {exc}")
    rt.trace.event("run.summary", status=status, score=q[-1]["combined"] if q else None,
                   steps=len(state.get("step_results") or {}), artifacts=len(state.get("artifacts") or []),
                   iterations=state.get("iteration", 0) + 1)
    return {"final_answer": answer, "status": status, "messages": [AIMessage(content=answer)]}
