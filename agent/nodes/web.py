"""web: fresh facts from web search, only when the intent needs them. Never stops the graph."""
from __future__ import annotations

from agent.nodes.common import traced
from agent.runtime import Runtime
from rag.types import Evidence


def wants_web(state: dict, rt: Runtime) -> bool:
    mode = rt.settings.agent.web
    if mode == "never" or not rt.settings.web.enabled:
        return False
    return mode == "always" or bool((state.get("intent") or {}).get("needs_fresh_facts"))


@traced("web")
def web(state: dict, rt: Runtime) -> dict:
    try:
        found = rt.web.search(state["request"], max_results=rt.settings.web.max_results)
    except Exception as exc:
        found = [Evidence(id="web-unavailable", text=f"Web search unavailable ({exc}); using local knowledge.",
                          source="web", kind="notice", origin="notice")]
    items = []
    for ev in found:
        ev = ev if isinstance(ev, Evidence) else Evidence.model_validate(ev)
        if ev.origin == "web":
            ev.trusted = False  # web text is data, never instructions
        items.append(ev.model_dump(mode="json"))
    rt.trace.event("web.done", count=len(items))
    return {"evidence": items}
