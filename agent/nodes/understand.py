"""understand: the request → a typed Intent (thinking + task decomposition) and a route by meaning."""
from __future__ import annotations

import re

from langchain_core.messages import HumanMessage, SystemMessage

from agent.nodes.common import traced
from agent.prompts import prompt
from agent.runtime import Runtime
from agent.state import Intent
from tools.core.structured_output import StructuredOutputError, invoke_structured

_FRESH = re.compile(r"\b(latest|news|today|this (week|month|year)|current(ly)?|recent(ly)?|upcoming|release date|box office|20[2-9]\d)\b", re.I)
_TASK_WORDS = {
    "parody": r"\b(parody|parodies|spoof|funny|comed|joke|meme|dub)\w*",
    "dataset": r"\b(lora|dataset|train|training|fine-?tun)\w*",
    "image": r"\b(image|picture|draw|illustrat|render an?|poster|portrait)\w*",
    "library": r"\b(library|my (films|videos|movies)|what (films|videos))\b",
    "video_edit": r"\b(cut|trim|clip|edit|subtitle)\w*",
}


def _non_latin_ratio(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(ord(c) > 0x24F for c in letters) / max(1, len(letters))


def _heuristics(request: str, intent: Intent) -> Intent:
    """Deterministic facts that must not depend on a tiny model's judgement."""
    if _FRESH.search(request):
        intent.needs_fresh_facts = True
    if intent.task == "other":
        for task, pattern in _TASK_WORDS.items():
            if re.search(pattern, request, re.I):
                intent.task = task  # type: ignore[assignment]
                break
    if _non_latin_ratio(request) > 0.3:
        intent.language = "non-latin"
    return intent


@traced("understand")
def understand(state: dict, rt: Runtime) -> dict:
    request = state["request"]
    film = state.get("film")
    earlier = [m for m in state.get("messages") or [] if isinstance(m.content, str)][-6:]
    context = "\n".join(f"{m.type}: {m.content[:200]}" for m in earlier)
    ask = prompt("understand", request=request, film=film or "none")
    if context:  # chat: earlier turns help resolve "make it shorter", "that scene"
        ask = f"Conversation so far:\n{context}\n\n{ask}"
    messages = [SystemMessage(content=prompt("system")), HumanMessage(content=ask)]
    try:
        intent = invoke_structured(rt.llm, messages, Intent, retries=rt.settings.llm.structured_retries,
                                   trace=rt.trace, purpose="understand")
    except StructuredOutputError as exc:
        rt.trace.event("understand.fallback", error=str(exc)[:300])
        intent = Intent(goal=request[:240])
    intent = _heuristics(request, intent)
    route = rt.router.route(request, rt.settings.agent.router_min_similarity, film_given=bool(film))
    intent.workflow = route.workflow
    intent.workflow_similarity = round(route.similarity, 4)
    rt.trace.event("route", workflow=route.workflow, similarity=route.similarity,
                   ranking=[(n, round(s, 3)) for n, s in route.ranking[:5]])
    return {"intent": intent.model_dump(mode="json"), "messages": [HumanMessage(content=request)]}
