"""Filling a job's workflow: its typed parameters from the request's slots, the answers to its questions,
the files given, the model (when it can add something), past runs' style and the defaults."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from agent.nodes.common import evidence_text
from agent.planning.routing.reading import request_slots, run_names
from agent.planning.slots import STYLE_KINDS, RequestSlots, resolve_slots
from agent.prompts import prompt
from agent.runtime import Runtime
from tools.core.structured_output import StructuredOutputError, invoke_structured
from workflows import Plan, Workflow


def fill_workflow(rt: Runtime, wf: Workflow, state: dict, reasoning: str = "", temperature_hint: int = 0) -> Plan:
    """The workflow's typed slots: the request's words first, then the model, past runs' style, defaults.

    Every value records where it came from (`plan.slots`, trace event `plan.slots`).
    """
    intent = state.get("intent") or {}
    stated = request_slots(rt, state)
    past, past_run = reused_parameters(rt, wf, state["request"])
    model_values: dict[str, Any] = {}
    model = wf.params_model()
    if model.model_fields and not model_can_be_spared(rt, wf, stated):
        msg = prompt("fill_params", workflow=wf.name, description=wf.description, request=state["request"],
                     intent=json.dumps({k: intent.get(k) for k in ("goal", "film", "scene", "characters", "tone")}),
                     reasoning=reasoning or "(none)", evidence=evidence_text(state.get("evidence") or [], 3, 250))
        if temperature_hint:
            msg += f"\nThis is alternative #{temperature_hint + 1}: choose different but sensible values."
        try:
            filled = invoke_structured(rt.llm, [SystemMessage(content=prompt("system")), HumanMessage(content=msg)],
                                       model, retries=rt.settings.llm.structured_retries, trace=rt.trace,
                                       purpose=f"fill:{wf.name}")
            # A value equal to the declared default says nothing: the model left it as it was.
            model_values = {k: v for k, v in filled.model_dump().items() if v != wf.parameters[k].default}
        except StructuredOutputError as exc:
            rt.trace.event("plan.fill_fallback", workflow=wf.name, error=str(exc)[:300])
    run_values = {name: state["film"] if p.source == "film" else state["request"]
                  for name, p in wf.parameters.items()
                  if (p.source == "film" and state.get("film")) or p.source == "request"}
    for name, p in wf.parameters.items():
        named = input_for(rt.inputs, p.input_kind) if p.source == "input" else None
        if named:
            run_values[name] = named
    names, _ = run_names(rt)
    slots = resolve_slots(wf.parameters, stated, model=model_values, past=past, past_run=past_run,
                          run_values=run_values, known_names=names)
    rt.trace.event("plan.slots", workflow=wf.name, slots={k: v.model_dump(mode="json") for k, v in slots.items()})
    plan = wf.instantiate({k: v.value for k, v in slots.items()}, goal=intent.get("goal") or state["request"])
    plan.slots = {k: v.model_dump(mode="json") for k, v in slots.items()}
    return plan


def model_can_be_spared(rt: Runtime, wf: Workflow, stated: RequestSlots) -> bool:
    """The embedded model is not asked to fill a workflow when the request states every required value:
    its guesses would only be refused or replace a default, and each call costs seconds on two cores."""
    if not rt.llm_is_tiny:
        return False
    asked = [p for p in wf.parameters.values() if p.source == "llm"]
    covered = all(p.slot for p in asked)  # every value is read from the request (or keeps its default)
    missing = [p for p in asked if p.required and p.default is None and not p.derive
               and stated.stated(p.slot or "") is None]
    if covered or not missing:
        rt.trace.event("plan.fill_skipped", workflow=wf.name, reason="embedded model; slots from the request")
    return covered or not missing


def input_for(inputs: list[str], kind: str) -> str | None:
    """The first file the user named for this run that fits `kind` (image, folder, any)."""
    from agent.planning.routing.signals import IMAGE_SUFFIXES

    for raw in inputs:
        path = Path(raw)
        if kind == "any" or (kind == "image" and path.suffix.lower() in IMAGE_SUFFIXES) or (
                kind == "folder" and path.is_dir()):
            return raw
    return None


def reused_parameters(rt: Runtime, wf: Workflow, request: str) -> tuple[dict[str, Any], str]:
    """Parameters of the most similar earlier run of this workflow that passed the threshold, and its id.

    Only style slots (tone, length) are ever taken from them, and only when the request is silent.
    """
    try:
        from rag.runs import similar_runs

        past = similar_runs(rt.kb, request, k=1, min_quality=rt.settings.agent.quality_threshold, workflow=wf.name)
    except Exception:  # no knowledge base, or no past runs yet
        return {}, ""
    if not past:
        return {}, ""
    try:
        stored = json.loads(past[0].metadata.get("parameters_json") or "{}")
    except ValueError:
        return {}, ""
    reusable = {k: v for k, v in stored.items() if k in wf.parameters and wf.parameters[k].slot in STYLE_KINDS}
    rt.trace.event("plan.reuse", workflow=wf.name, run=past[0].source, parameters=reusable)
    return reusable, past[0].source


