"""understand: the request → a typed Intent (thinking + task decomposition) and a route by meaning."""
from __future__ import annotations

import re

from langchain_core.messages import HumanMessage, SystemMessage

from agent.nodes.common import traced
from agent.planning.builders import run_names
from agent.planning.slots import extract_slots
from agent.prompts import prompt
from agent.runtime import Runtime
from agent.state import Intent, IntentBrief, UnderstoodIntent
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


def _heuristics(request: str, intent: UnderstoodIntent) -> UnderstoodIntent:
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


def _ground(rt: Runtime, request: str, intent: UnderstoodIntent) -> UnderstoodIntent:
    """The request's own slots override what the model read into it; nothing the request lacks is invented."""
    names, titles = run_names(rt)
    slots = extract_slots(request, names, titles)
    intent.slots = slots.model_dump(mode="json")
    intent.scene = slots.value("scene")
    model_tone = intent.tone if intent.tone and len(intent.tone.split()) <= 4 else None
    intent.tone = slots.value("tone") or model_tone
    allowed = {n.lower() for n in names}
    model_names = [c for c in intent.characters if c.lower() in allowed or c.lower() in request.lower()]
    intent.characters = list(dict.fromkeys([*slots.value("characters", []), *model_names]))
    title = next((t for t in titles if re.search(r"\b" + re.escape(t) + r"\b", request, re.I)), None)
    intent.film = title or (intent.film if intent.film and intent.film.lower() in request.lower() else None)
    if slots.language == "it" and intent.language == "en":
        intent.language = "it"
    rt.trace.event("understand.slots", language=slots.language,
                   slots={k: {"value": v.value, "evidence": v.evidence} for k, v in slots.found.items()})
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
        schema = IntentBrief if rt.llm_is_tiny else Intent
        read = invoke_structured(rt.llm, messages, schema, retries=rt.settings.llm.structured_retries,
                                 trace=rt.trace, purpose="understand")
        intent = UnderstoodIntent(**read.model_dump())
    except StructuredOutputError as exc:
        rt.trace.event("understand.fallback", error=str(exc)[:300])
        intent = UnderstoodIntent(goal=request[:160])
    intent = _heuristics(request, intent)
    intent = _ground(rt, request, intent)
    route = rt.router.route(request, rt.settings.agent.router_min_similarity, film_given=bool(film))
    intent.workflow = route.workflow
    intent.workflow_similarity = round(route.similarity, 4)
    rt.trace.event("route", workflow=route.workflow, similarity=route.similarity,
                   ranking=[(n, round(s, 3)) for n, s in route.ranking[:5]])
    return {"intent": intent.model_dump(mode="json"), "messages": [HumanMessage(content=request)]}
