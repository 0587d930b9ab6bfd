"""retrieve: evidence from the knowledge base (characters, films, styles, comedy, past runs)."""
from __future__ import annotations

from agent.nodes.common import traced
from agent.runtime import Runtime
from rag.types import Evidence


def _query(state: dict) -> str:
    intent = state.get("intent") or {}
    parts = [state["request"], intent.get("film") or "", intent.get("scene") or "", " ".join(intent.get("characters") or [])]
    return " ".join(p for p in parts if p).strip()


@traced("retrieve")
def retrieve(state: dict, rt: Runtime) -> dict:
    intent = state.get("intent") or {}
    filters = {"film": intent["film"]} if intent.get("film") else None
    k = rt.settings.agent.retrieve_k
    try:
        found = rt.kb.search(_query(state), k=k, filters=filters)
        if filters and not found:  # a filter on an unknown film must not hide everything
            found = rt.kb.search(_query(state), k=k)
    except Exception as exc:  # the knowledge base failing must not stop the run
        rt.trace.event("retrieve.error", error=f"{type(exc).__name__}: {exc}")
        found = [Evidence(id="kb-unavailable", text=f"Knowledge base unavailable: {exc}", source="rag",
                          kind="notice", origin="notice")]
    evidence = [Evidence.model_validate(e).model_dump(mode="json") if not isinstance(e, dict) else e for e in found]
    # Past runs are evidence only when they passed (older stores may still hold failed ones).
    evidence = [e for e in evidence if e.get("kind") != "runs" or (e.get("metadata") or {}).get("status") == "passed"]
    rt.trace.event("retrieve.done", count=len(evidence), sources=[e.get("source") for e in evidence])
    return {"evidence": evidence}
