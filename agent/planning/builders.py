"""Turning a route or the model's answer into a validated Plan."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agent.nodes.common import evidence_text, tool_lines
from agent.planning.slots import STYLE_KINDS, RequestSlots, extract_slots, known_names, resolve_slots
from agent.prompts import prompt
from agent.runtime import Runtime
from tools.core.registry import ToolSpec
from tools.core.structured_output import StructuredOutputError, invoke_structured
from workflows import Plan, Workflow, WorkflowError
from workflows.plan import argument_errors


def run_names(rt: Runtime) -> tuple[list[str], list[str]]:
    """(character names, film titles) the knowledge base knows; read once per run."""
    if "known_names" not in rt.extras:
        rt.extras["known_names"] = known_names(rt.kb)
    return rt.extras["known_names"]


def run_lists(rt: Runtime) -> tuple[list[str], list[str]]:
    """(character presets, existing datasets), read once per run."""
    from agent.planning.routing import datasets, presets

    if "route_lists" not in rt.extras:
        rt.extras["route_lists"] = (presets(rt.settings), datasets(rt.settings))
    return rt.extras["route_lists"]


def slots_of(rt: Runtime, request: str) -> RequestSlots:
    """The request's own slots, with every name list the rules consult."""
    names, titles = run_names(rt)
    presets, datasets = run_lists(rt)
    return extract_slots(request, names, titles, presets=presets, datasets=datasets)


def request_slots(rt: Runtime, state: dict) -> RequestSlots:
    """The request's own slots (extracted by the understand node, or here when planning directly)."""
    stored = (state.get("intent") or {}).get("slots")
    if stored:
        return RequestSlots.model_validate(stored)
    return slots_of(rt, state["request"])


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
    from agent.planning.signals import IMAGE_SUFFIXES

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


def _free_plan_schema(tools: list[ToolSpec]) -> type[BaseModel]:
    names = tuple(t.name for t in tools) or ("list_media",)
    step = create_model(
        "PlannedStep", __config__=ConfigDict(extra="forbid"),
        id=(str, Field(description="short step id", max_length=32)),
        tool=(Literal[names], ...),  # type: ignore[valid-type]
        args=(dict[str, Any], Field(default_factory=dict)),
        depends_on=(list[str], Field(default_factory=list, max_length=6)),
    )
    return create_model("FreePlan", __config__=ConfigDict(extra="forbid"),
                        steps=(list[step], Field(default_factory=list, max_length=6)))  # type: ignore[valid-type]


def static_errors(plan: Plan) -> list[str]:
    """Argument problems of every step visible before running (workflows.plan.argument_errors)."""
    return [f"{step.id}: {error}" for step in plan.steps for error in argument_errors(step)]


def free_plan(rt: Runtime, state: dict, reasoning: str = "") -> Plan:
    """Let the model compose a plan over the most relevant tools; invalid plans are retried once."""
    tools = rt.router.relevant_tools(state["request"], k=8)
    schema = _free_plan_schema(tools)
    msg = prompt("free_plan", request=state["request"], reasoning=reasoning or "(none)", tools=tool_lines(tools),
                 evidence=evidence_text(state.get("evidence") or [], 3, 250))
    convo = [SystemMessage(content=prompt("system")), HumanMessage(content=msg)]
    for attempt in range(2):
        try:
            raw = invoke_structured(rt.llm, convo, schema, retries=rt.settings.llm.structured_retries,
                                    trace=rt.trace, purpose="free_plan")
            plan = Plan(goal=state["request"], steps=[s.model_dump() for s in raw.steps])
        except (StructuredOutputError, ValidationError, WorkflowError) as exc:
            rt.trace.event("plan.free_invalid", attempt=attempt, error=str(exc)[:300])
            convo = convo + [HumanMessage(content=f"That plan was invalid: {str(exc)[:300]}. Try again.")]
            continue
        errors = static_errors(plan)
        if not errors:
            return plan
        rt.trace.event("plan.free_invalid", attempt=attempt, error="; ".join(errors)[:300])
        convo = convo + [HumanMessage(content="Fix these problems: " + "; ".join(errors))]
    return Plan(goal=state["request"], reasoning="no valid tool plan; answering from knowledge")


def score_plan(rt: Runtime, plan: Plan, state: dict, route_similarity: float) -> tuple[float, list[str]]:
    """A cheap, deterministic plan critic used by ToT: validity, coverage of the intent, routing fit."""
    reasons = []
    errors = static_errors(plan)
    validity = 1.0 if not errors else max(0.0, 1.0 - 0.25 * len(errors))
    if errors:
        reasons.append("argument problems: " + "; ".join(errors)[:200])
    intent = state.get("intent") or {}
    subtasks = [s.get("description", "") for s in intent.get("subtasks") or [] if s.get("description")]
    coverage = 1.0
    if subtasks and plan.steps and rt.router.embedder is not None:
        sub = rt.router.embedder.encode(subtasks)
        steps = rt.router.embedder.encode([f"{s.tool} {s.description}" for s in plan.steps])
        coverage = float((sub @ steps.T).max(axis=1).mean())
        reasons.append(f"covers intent subtasks at {coverage:.2f}")
    if not plan.steps:
        validity *= 0.5 if intent.get("task") not in ("question", "other") else 1.0
        reasons.append("no tool steps")
    film_fit = 1.0
    if state.get("film") and plan.workflow:
        needs = rt.workflows[plan.workflow].needs_film
        film_fit = 1.0 if needs else 0.8
    score = round(0.5 * validity + 0.25 * max(0.0, min(1.0, coverage)) + 0.25 * max(0.0, route_similarity) * film_fit, 4)
    return score, reasons
