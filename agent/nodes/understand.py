"""understand: the request → a typed Intent (thinking + task decomposition), its slots, and its job."""
from __future__ import annotations

import re

from langchain_core.messages import HumanMessage, SystemMessage

from agent.nodes.common import traced
from agent.planning.routing.reading import reading_of, route_request, run_names, slots_of
from agent.planning.routing.router import Route
from agent.planning.routing.signals import is_fresh
from agent.planning.slots import RequestSlots
from agent.prompts import prompt
from agent.runtime import Runtime
from agent.state import Intent, SubTask, UnderstoodIntent
from tools.core.structured_output import StructuredOutputError, invoke_structured

def _non_latin_ratio(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(ord(c) > 0x24F for c in letters) / max(1, len(letters))


def _heuristics(request: str, intent: UnderstoodIntent) -> UnderstoodIntent:
    """Deterministic facts that must not depend on a tiny model's judgement (the task comes from the job)."""
    if is_fresh(request):  # the one vocabulary of recent facts (routing/signals.py)
        intent.needs_fresh_facts = True
    if _non_latin_ratio(request) > 0.3:
        intent.language = "non-latin"
    return intent


def _ground(rt: Runtime, request: str, intent: UnderstoodIntent) -> UnderstoodIntent:
    """The request's own slots override what the model read into it; nothing the request lacks is invented."""
    names, titles = run_names(rt)
    slots = slots_of(rt, request)
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
    if rt.llm_is_tiny:
        # The embedded 135M model's reading adds nothing the slots and the route do not say, and each
        # call costs seconds on two cores: the intent comes from the request's own words and its job.
        intent = UnderstoodIntent(goal=request[:160])
        rt.trace.event("understand.rules", reason="embedded model: intent from the request's slots and route")
    else:
        try:
            read = invoke_structured(rt.llm, messages, Intent, retries=rt.settings.llm.structured_retries,
                                     trace=rt.trace, purpose="understand")
            intent = UnderstoodIntent(**read.model_dump())
        except StructuredOutputError as exc:
            rt.trace.event("understand.fallback", error=str(exc)[:300])
            intent = UnderstoodIntent(goal=request[:160])
    intent = _heuristics(request, intent)
    intent = _ground(rt, request, intent)
    slots = RequestSlots.model_validate(intent.slots)
    route = route_request(rt, request, slots, film=film, inputs=rt.inputs, job=state.get("job"))
    _apply_route(rt, intent, route)
    intent.reading = reading_of(rt, route, slots)
    return {"intent": intent.model_dump(mode="json"), "messages": [HumanMessage(content=request)]}


def _apply_route(rt: Runtime, intent: UnderstoodIntent, route: Route) -> None:
    """The job decides the task; a job answered from the web needs fresh facts."""
    intent.workflow = route.workflow
    intent.workflow_similarity = route.confidence
    wf = rt.workflows.get(route.workflow or "")
    if wf is None:
        return
    if wf.route.task != "other":
        intent.task = wf.route.task  # type: ignore[assignment]
    if wf.name == "answer_web":
        intent.needs_fresh_facts = True
    if not intent.subtasks and wf.steps:
        intent.subtasks = [SubTask(id=s.id, description=(s.description or s.tool)[:200]) for s in wf.steps[:8]]
