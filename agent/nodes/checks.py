"""The checks a run is scored by: one function per check kind a workflow may declare (the workflow
loader refuses any other kind), plus the answer scorer for ReAct runs and free plans.

Each returns a score report as a plain dict (ScoreReport's fields): scorer, score, passed, reasons,
metrics, blame, findings. Findings carry codes; blame is what reflect redoes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from agent.runtime import Runtime
from tools.core.findings import Code, Finding
from tools.quality.answer import score_answer
from tools.quality.report import ScoreReport
from workflows import Plan
from workflows.loader import CHECK_KINDS, WorkflowCheck


def _exists(rt: Runtime, path: str) -> bool:
    p = Path(path)
    p = p if p.is_absolute() else rt.ctx.workspace.root / p
    try:
        return p.is_file() and p.stat().st_size > 0
    except OSError:
        return False


def _report(scorer: str, score: float, findings: list[Finding], metrics: dict, ok_reason: str,
            passed: bool | None = None) -> dict:
    passed = (score >= 0.999 and not findings) if passed is None else passed
    return ScoreReport(scorer=scorer, score=round(score, 4), passed=passed,
                       reasons=[f.message for f in findings] or [ok_reason], metrics=metrics,
                       blame=list(dict.fromkeys(f.blame for f in findings)), findings=findings).model_dump(mode="json")


def completion_report(state: dict, plan: Plan, rt: Runtime) -> dict:
    """Every non-optional step ran and succeeded; every artifact the run promised exists and is not empty."""
    results = state.get("step_results") or {}
    found: list[Finding] = []
    if plan.strategy == "react":
        steps = {k: r for k, r in results.items() if k.startswith("react_")}
        score = 1.0 if steps or state.get("final_answer") else 0.0  # the answer scorer judges the rest
        required_ok = sum(bool(r.get("ok")) for r in steps.values())
        required = len(steps)
    else:
        required_steps = [s for s in plan.steps if not s.optional]
        required, required_ok = len(required_steps), 0
        for s in required_steps:
            res = results.get(s.id)
            if res is None:
                found.append(Finding(code=Code.step_failed, message=f"step {s.id} did not run", blame=s.id))
            elif not res.get("ok"):
                found.append(Finding(code=Code.step_failed, message=f"step {s.id} failed: {res.get('error')}",
                                     blame=s.id, data={"error_kind": res.get("error_kind")}))
            else:
                required_ok += 1
        score = required_ok / required if required else 1.0
    missing = [a["path"] for a in state.get("artifacts") or [] if not _exists(rt, a["path"])]
    if missing:
        found.append(Finding(code=Code.artifact_missing, message=f"promised artifacts missing or empty: {missing[:5]}",
                             blame="", data={"paths": missing[:10]}))
        score *= 0.5
    return _report("completion", score, found, {"steps": required, "succeeded": required_ok,
                                                "missing_artifacts": len(missing)},
                   "every step succeeded and every artifact exists",
                   passed=score >= 0.999 and not missing)


def artifact_report(check: WorkflowCheck, state: dict, plan: Plan, rt: Runtime) -> dict:
    """`artifact_exists`: the step made at least one artifact of the declared kind, as a real file."""
    res = (state.get("step_results") or {}).get(check.step or "") or {}
    kinds = [a for a in res.get("artifacts") or [] if a.get("kind") == check.artifact_kind]
    real = [a["path"] for a in kinds if _exists(rt, a["path"])]
    name = f"artifact:{check.artifact_kind}"
    if real:
        return _report(name, 1.0, [], {"paths": real[:5]}, f"step {check.step} made {len(real)} {check.artifact_kind} file(s)")
    why = (f"step {check.step} did not run or failed" if not res.get("ok") else
           f"step {check.step} made no {check.artifact_kind} file" if not kinds else
           f"the {check.artifact_kind} file(s) of step {check.step} are missing or empty")
    return _report(name, 0.0, [Finding(code=Code.artifact_missing, message=why, blame=check.step or "",
                                       data={"kind": check.artifact_kind})], {}, "")


def scorer_report(check: WorkflowCheck, state: dict, plan: Plan, rt: Runtime) -> dict:
    """`scorer`: a step whose result carries {combined, passed, reasons, blame, findings?}."""
    res = (state.get("step_results") or {}).get(check.step or "") or {}
    value = res.get("result") or {}
    name = check.scorer or check.step or "scorer"
    if not (res.get("ok") and isinstance(value, dict) and "combined" in value):
        why = f"the scoring step {check.step} did not run or failed: {res.get('error') or 'no combined score'}"
        return _report(name, 0.0, [Finding(code=Code.step_failed, message=why, blame=check.step or "")], {}, "")
    found = [Finding.model_validate(f) for f in value.get("findings") or []]
    blame = list(value.get("blame") or [])
    if not found and not value.get("passed", True):  # a scorer that only names blame tags and reasons
        found = [Finding(code=Code.note, message=r, blame=blame[0] if blame else "") for r in value.get("reasons") or []]
    report = _report(name, float(value["combined"]), found, {}, "all checks passed",
                     passed=bool(value.get("passed", True)))
    report.update(reasons=value.get("reasons") or report["reasons"], blame=blame or report["blame"],
                  reports=value.get("reports", []))
    return report


def answer_report(state: dict, plan: Plan, rt: Runtime, answer: str) -> dict:
    """A ReAct answer or a free plan's results: addresses the request, names real files, few tool errors."""
    from tools.core.embeddings import get_embedder
    from tools.core.types import ToolError

    results = state.get("step_results") or {}
    steps = {k: r for k, r in results.items() if k.startswith("react_")} if plan.strategy == "react" else results
    calls = len(steps)
    errors = sum(not r.get("ok") for r in steps.values())
    try:
        embed = get_embedder(rt.settings).encode
    except (ToolError, ImportError, OSError):
        embed = None
    made = [a["path"] for a in state.get("artifacts") or []]
    report = score_answer(state.get("request", ""), answer, made, lambda p: _exists(rt, p), calls, errors,
                          rt.settings.quality, embed, files_listed=plan.strategy != "react")
    return report.model_dump(mode="json")


CHECKS: dict[str, Callable[[WorkflowCheck, dict, Plan, Runtime], dict]] = {
    "steps_succeeded": lambda check, state, plan, rt: completion_report(state, plan, rt),
    "artifact_exists": artifact_report,
    "scorer": scorer_report,
}
assert set(CHECKS) == set(CHECK_KINDS), "every check kind a workflow may declare needs its evaluator"
