"""Past runs as knowledge: the planner looks up similar earlier requests and reuses the
parameters of the ones that scored well.

Only runs that passed their quality threshold become memory, and each run is recorded once: a
failed run must never be the "what worked last time" for a later plan, and a later write can
never rewrite what an earlier run did.
"""
from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from rag.knowledge_base import KnowledgeBase
from rag.types import Evidence
from tools.core.types import ToolError

RUNS_KIND = "runs"


class RunRecord(BaseModel):
    """What a finished run leaves behind (extra keys are kept in metadata)."""

    run_id: str
    request: str
    workflow: str = ""
    plan: Any = None  # Plan.model_dump() or a list of step dicts
    parameters: dict[str, Any] = Field(default_factory=dict)
    quality: float | None = None
    status: str = "finished"  # only "passed" runs are recorded
    artifacts: list[Any] = Field(default_factory=list)
    film: str | None = None


def _plan_lines(plan: Any) -> list[str]:
    steps = plan.get("steps", []) if isinstance(plan, dict) else plan if isinstance(plan, list) else []
    lines = []
    for step in steps:
        if isinstance(step, dict):
            name = step.get("id") or step.get("name") or ""
            tool = step.get("tool") or ""
            lines.append(f"- {name}: {tool}".strip(": "))
        else:
            lines.append(f"- {step}")
    return lines


def _artifact_path(a: Any) -> str:
    return str(a.get("path", a)) if isinstance(a, dict) else str(getattr(a, "path", a))


def recorded(kb: KnowledgeBase, run_id: str) -> bool:
    store = getattr(kb, "store", None)
    if store is None or RUNS_KIND not in store.kinds():
        return False
    return bool(store.metadatas(RUNS_KIND, {"source": f"run:{run_id}"}))


def ingest_run(kb: KnowledgeBase, record: dict[str, Any] | RunRecord) -> int:
    """Store one passed run (request, plan, parameters, quality, artifacts), once. Returns the
    number of chunks written: 0 for a run that did not pass or is already recorded."""
    try:
        run = record if isinstance(record, RunRecord) else RunRecord.model_validate(record)
    except Exception as exc:
        raise ToolError(f"Run record is invalid: {exc}", "pass at least run_id and request") from exc
    if run.status != "passed" or recorded(kb, run.run_id):
        return 0
    params = json.dumps(run.parameters, sort_keys=True, default=str)
    text = "\n".join([
        f"Request: {run.request}",
        f"Workflow: {run.workflow or 'free plan'}",
        "Plan:", *(_plan_lines(run.plan) or ["- (none recorded)"]),
        f"Parameters: {params}",
        f"Quality: {run.quality if run.quality is not None else 'not scored'} ({run.status})",
        "Artifacts: " + (", ".join(_artifact_path(a) for a in run.artifacts) or "none"),
    ])
    metadata: dict[str, Any] = {"run_id": run.run_id, "workflow": run.workflow, "status": run.status,
                                "parameters_json": params, "request": run.request[:500],
                                "artifacts_json": json.dumps([_artifact_path(a) for a in run.artifacts])}
    if run.quality is not None:
        metadata["quality"] = float(run.quality)
    if run.film:
        metadata["film"] = run.film
    return kb.add_documents(RUNS_KIND, [{"text": text, "source": f"run:{run.run_id}",
                                         "title": f"Run {run.run_id}", "metadata": metadata}])


def similar_runs(kb: KnowledgeBase, request: str, k: int = 3, *, min_quality: float | None = None,
                 workflow: str | None = None) -> list[Evidence]:
    """Earlier runs whose request resembles this one, best first; each Evidence carries the
    run's parameters (metadata["parameters"]) and quality (metadata["quality"])."""
    filters: dict[str, Any] = {"kind": RUNS_KIND}
    if workflow:
        filters["workflow"] = workflow
    # Over-fetch: the quality floor is applied after ranking so it never empties a good match list.
    hits = kb.search(request, k=max(k * 4, 10), filters=filters, mode="vector")
    out = []
    for ev in hits:
        if ev.metadata.get("status") != "passed":  # recorded before only passed runs were kept
            continue
        quality = ev.metadata.get("quality")
        if min_quality is not None and (quality is None or quality < min_quality):
            continue
        ev.origin = "runs"
        ev.source = str(ev.metadata.get("source", ev.source))
        out.append(ev)
    return out[:k]
