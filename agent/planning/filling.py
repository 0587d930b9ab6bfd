"""Filling a job's workflow: its typed parameters from the request's slots, the answers to its questions,
the files given, the model (when it can add something), past runs' style and the defaults."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from agent.nodes.common import evidence_text
from agent.planning.routing.reading import request_slots, run_names
from agent.planning.slots.names import film_names
from agent.planning.slots import STYLE_KINDS, RequestSlots, SlotValue, resolve_slots
from agent.prompts import prompt
from agent.runtime import Runtime
from tools.core.structured_output import StructuredOutputError, invoke_structured
from workflows import Plan, Workflow, WorkflowError

TAKEN = "<taken from {}>"  # a value an earlier job makes, until the jobs' steps sit in one plan


def is_taken(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(TAKEN.split("{")[0]) and value.endswith(">")


class MissingInput(WorkflowError):
    """A required value nothing gives (the request, the files, the answers): the run asks for it."""

    def __init__(self, wf: Workflow, missing: list[str], values: dict[str, Any]):
        super().__init__(f"workflow {wf.name}: nothing gives {missing}")
        self.workflow, self.missing, self.values = wf, missing, values


def fill_workflow(rt: Runtime, wf: Workflow, state: dict, reasoning: str = "", temperature_hint: int = 0,
                  given: dict[str, SlotValue] | None = None) -> Plan:
    """The workflow's typed slots: the answers to the run's questions, the request's words, then the model,
    past runs' style, defaults. A required value none of them gives raises MissingInput (a question).
    `given`: what an earlier job of the same plan makes (a reference to its step's output); it fills a
    parameter the person's own words (the request, an answer) leave unstated.

    Every value records where it came from (`plan.slots`, trace event `plan.slots`).
    """
    intent = state.get("intent") or {}
    stated = request_slots(rt, state)
    answers = {k: v for k, v in (state.get("answers") or {}).items() if not k.startswith("__")}
    partial = (state.get("answers") or {}).get("__partial__")
    past, past_run = reused_parameters(rt, wf, state["request"])
    model_values: dict[str, Any] = {}
    model = wf.params_model()
    if model.model_fields and not model_can_be_spared(rt, wf):
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
    inputs = run_inputs(rt, state)
    for name, p in wf.parameters.items():
        named = input_for(inputs, p.input_kind) if p.source == "input" else None
        if named:
            run_values[name] = named
    character_from_refs(wf, stated, {**run_values, **answers})
    # With a film, a name the model fills in must be one of that film's (the request may still name anyone).
    names = film_names(rt.kb, state["film"]) if state.get("film") else run_names(rt)[0]
    slots = resolve_slots(wf.parameters, stated, model=model_values, past=past, past_run=past_run,
                          run_values=run_values, known_names=names, answers=answers,
                          model_may_correct=not rt.llm_is_tiny and rt.settings.llm.backend == "openai")
    rt.trace.event("plan.slots", workflow=wf.name, slots={k: v.model_dump(mode="json") for k, v in slots.items()})
    for name, value in (given or {}).items():
        flag = wf.parameters[name].takes_if
        wanted = not flag or (flag in slots and bool(slots[flag].value))
        if name in slots and slots[name].source not in ("request", "answer") and wanted:
            slots[name] = value
    to_choose = character_from_dataset(rt, wf, slots)
    values = {k: v.value for k, v in slots.items()}
    missing = list(dict.fromkeys([*missing_values(rt, wf, slots, state), *to_choose]))
    if partial and partial in missing:  # the person chose the part of the job that runs without it
        return partial_plan(wf, values, partial, intent.get("goal") or state["request"], slots)
    if missing:
        notes = [s.note.removeprefix("options: ") for n, s in slots.items() if n in missing and s.note.startswith("options: ")]
        raise MissingInput(wf, missing, {**values, "__character_options__": ", ".join(notes)})
    plan = wf.instantiate(values, goal=intent.get("goal") or state["request"])
    plan.slots = {k: v.model_dump(mode="json") for k, v in slots.items()}
    return plan


def run_inputs(rt: Runtime, state: dict) -> list[str]:
    """Files named for the run, and those given since in answers to its questions."""
    return list(dict.fromkeys([*rt.inputs, *(state.get("inputs") or [])]))


def character_from_refs(wf: Workflow, stated: RequestSlots, values: dict[str, Any]) -> None:
    """A refs folder with a single character's sub-folder names the character the request leaves out."""
    wants = [p for p in wf.parameters.values() if p.slot == "character"]
    if not wants or stated.stated("character") is not None:
        return
    for name, p in wf.parameters.items():
        folder = Path(str(values.get(name) or "")) if p.source == "input" and p.input_kind == "folder" else None
        if folder is not None and folder.is_dir():
            subs = [d.name for d in folder.iterdir() if d.is_dir()]
            if len(subs) == 1:
                stated.found["character"] = SlotValue(value=subs[0], source="derived",
                                                      evidence=f"the only character folder in {folder}")
            return


def dataset_characters(rt: Runtime, name: Any) -> list[str] | None:
    """The characters an existing dataset's metadata.json names ([] when it names none; None when there is
    no such dataset yet, e.g. one an earlier job of the plan makes)."""
    from tools.core.settings.loader import resolve_path

    try:
        meta = json.loads((resolve_path(rt.settings.paths.datasets_dir) / str(name) / "metadata.json").read_text())
    except (OSError, ValueError):
        return None
    found = meta.get("characters") if isinstance(meta, dict) else None
    return sorted(found) if isinstance(found, (dict, list)) else []


def character_from_dataset(rt: Runtime, wf: Workflow, slots: dict[str, SlotValue]) -> list[str]:
    """The dataset's own metadata decides what a job on it needs when the request names no character: a
    dataset of one character names it; one that names none is trained/sampled as it is (the tool says so);
    one that names several needs the choice — the parameters returned are asked, offering them."""
    dataset = next((n for n, p in wf.parameters.items() if p.slot == "dataset" and not p.derive), None)
    to_choose = []
    for name, p in wf.parameters.items():
        slot = slots.get(name)
        if p.slot != "character" or dataset is None or slot is None or slot.value not in (None, ""):
            continue
        known = dataset_characters(rt, slots[dataset].value) if slots.get(dataset) else None
        if known is None:  # no dataset yet: its tool picks its only character when it runs
            continue
        if len(known) == 1:
            slots[name] = SlotValue(value=known[0], source="derived",
                                    evidence=f"the only character of dataset {slots[dataset].value}")
        elif known:
            slots[name] = slot.model_copy(update={"note": "options: " + ", ".join(known)})
            to_choose.append(name)
        else:
            slots[name] = slot.model_copy(update={
                "evidence": f"dataset {slots[dataset].value} names no character: the whole dataset"})
    return to_choose


def missing_values(rt: Runtime, wf: Workflow, slots: dict[str, SlotValue], state: dict) -> list[str]:
    """Required values nothing gave; a dataset to read that does not exist; in an interactive run, a scene
    the request does not name (the whole request would be the search)."""
    from agent.planning.routing.reading import run_lists

    _, datasets = run_lists(rt)
    missing = []
    for name, p in wf.parameters.items():
        slot = slots.get(name)
        value = None if slot is None else slot.value
        if p.required and value in (None, "", []) and p.source != "film":
            missing.append(name)
        elif (p.slot == "dataset" and not p.derive and value and slot.source != "answer" and value not in datasets
              and not is_taken(value)):  # a dataset an earlier job of the plan makes does not exist yet
            missing.append(name)
        elif (p.slot == "scene" and state.get("interactive") and slot is not None
              and slot.evidence.startswith("no scene words") and not rt.router.describes_something(state["request"])):
            missing.append(name)
    # A value made from others (the dataset named after the character) is asked last: answering those fills it.
    return sorted(missing, key=lambda n: bool(wf.parameters[n].derive))


def partial_plan(wf: Workflow, values: dict[str, Any], missing: str, goal: str, slots: dict[str, SlotValue]) -> Plan:
    """The job's steps that do not need `missing` (its parameter's `without:`)."""
    placeholder = f"<no {missing}>"
    plan = wf.instantiate({**values, **{n: values.get(n) or placeholder for n, p in wf.parameters.items()
                                        if p.required}}, goal=goal)
    keep = set(wf.parameters[missing].without)
    steps = [s for s in plan.steps if s.id in keep]
    if any(placeholder in json.dumps(s.args) for s in steps):
        raise WorkflowError(f"workflow {wf.name}: its steps without {missing} still need it")
    out = Plan(goal=goal, workflow=wf.name, params={k: v for k, v in plan.params.items() if v != placeholder},
               steps=steps, reasoning=f"without {missing}: only {', '.join(s.id for s in steps)}",
               left_out=[s.id for s in plan.steps if s.id not in keep], left_out_for=missing)
    out.slots = {k: v.model_dump(mode="json") for k, v in slots.items()}
    return out


def model_can_be_spared(rt: Runtime, wf: Workflow) -> bool:
    """The embedded model is never asked to fill a workflow: the rules read what the request states, and a
    required value it leaves out is asked of the person (a 135M model's guess would be invented, and each
    call costs seconds on two cores). A capable model fills, and may correct the rules' reading."""
    if rt.llm_is_tiny:
        rt.trace.event("plan.fill_skipped", workflow=wf.name, reason="embedded model; slots from the request")
    return rt.llm_is_tiny


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


