"""evaluate: pluggable scorers → one combined score per iteration.

The default scorer checks that every non-optional step succeeded and every promised artifact
exists. Workflows add scorer checks that read a quality report produced by one of their steps
(e.g. the parody's evaluate step: video, audio, subtitles, script, images).
"""
from __future__ import annotations

from pathlib import Path

from agent.nodes.common import traced
from agent.runtime import Runtime
from workflows import Plan


def completion_report(state: dict, plan: Plan, rt: Runtime) -> dict:
    results = state.get("step_results") or {}
    reasons, blame = [], []
    required = [s for s in plan.steps if not s.optional]
    ok = [s for s in required if results.get(s.id, {}).get("ok")]
    for s in required:
        res = results.get(s.id)
        if res is None:
            reasons.append(f"step {s.id} did not run")
            blame.append(s.id)
        elif not res.get("ok"):
            reasons.append(f"step {s.id} failed: {res.get('error')}")
            blame.append(s.id)
    missing = []
    for art in state.get("artifacts") or []:
        path = Path(art["path"])
        path = path if path.is_absolute() else rt.ctx.workspace.root / path
        if not path.exists() or path.stat().st_size == 0:
            missing.append(art["path"])
    if missing:
        reasons.append(f"promised artifacts missing or empty: {missing[:5]}")
    if plan.strategy == "react":
        react = [r for k, r in results.items() if k.startswith("react_")]
        score = 1.0 if (state.get("final_answer") or (react and all(r.get("ok") for r in react))) else 0.5
        if not react and not state.get("final_answer"):
            score = 0.0
    else:
        score = (len(ok) / len(required)) if required else 1.0
    if missing:
        score *= 0.5
    return {"scorer": "completion", "score": round(score, 4), "passed": score >= 0.999 and not missing,
            "reasons": reasons or ["every step succeeded and every artifact exists"], "metrics": {
                "steps": len(required), "succeeded": len(ok), "missing_artifacts": len(missing)}, "blame": blame}


def workflow_reports(state: dict, plan: Plan, rt: Runtime) -> list[dict]:
    wf = rt.workflows.get(plan.workflow or "")
    out = []
    for check in (wf.checks if wf else []):
        if check.kind != "scorer" or not check.step:
            continue
        res = (state.get("step_results") or {}).get(check.step) or {}
        value = res.get("result") or {}
        if res.get("ok") and isinstance(value, dict) and "combined" in value:
            out.append({"scorer": check.scorer or check.step, "score": float(value["combined"]),
                        "passed": bool(value.get("passed", True)), "reasons": value.get("reasons", []),
                        "metrics": {}, "blame": value.get("blame", []), "reports": value.get("reports", [])})
    return out


@traced("evaluate")
def evaluate(state: dict, rt: Runtime) -> dict:
    plan = Plan.model_validate(state.get("plan") or {})
    reports = [completion_report(state, plan, rt)] + workflow_reports(state, plan, rt)
    combined = reports[0]["score"]
    if len(reports) > 1:
        combined *= sum(r["score"] for r in reports[1:]) / (len(reports) - 1)
    threshold = rt.settings.agent.quality_threshold
    # A workflow scorer that failed (e.g. an unreadable script) fails the iteration whatever the mean says.
    passed = combined >= threshold and all(r["passed"] for r in reports[1:])
    entry = {"iteration": state.get("iteration", 0), "combined": round(combined, 4), "passed": passed,
             "threshold": threshold, "reports": reports}
    rt.trace.event("evaluate.score", **entry)
    return {"quality": [entry]}


def route_after_evaluate(state: dict, rt: Runtime) -> str:
    last = (state.get("quality") or [{}])[-1]
    if last.get("passed"):
        return "finish"
    if state.get("iteration", 0) + 1 >= rt.settings.agent.max_iterations:
        rt.trace.event("evaluate.cap", iteration=state.get("iteration", 0), max_iterations=rt.settings.agent.max_iterations)
        return "finish"
    return "reflect"
