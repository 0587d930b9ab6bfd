"""The plan: a DAG of typed tool steps. Args may reference parameters and earlier outputs.

References are strings of the form `${params.name}`, `${steps.<id>.<path>}` or `${item.<path>}`
(inside a `foreach` step). A string that is exactly one reference takes the referenced value with
its type; a reference inside longer text is formatted into it.
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from tools.core.dag import check_acyclic
from tools.core.registry import get_tool
from tools.core.types import ToolError

REF = re.compile(r"\$\{([^}]+)\}")


class Step(BaseModel):
    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    description: str = ""
    foreach: str | None = None  # a reference to a list; the tool runs once per element (`${item...}`)
    optional: bool = False  # a failure is recorded but does not fail the plan
    resources: list[str] = Field(default_factory=list)  # filled from the registry

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", v):
            raise ValueError(f"step id {v!r} must be a short identifier")
        return v

    def references(self) -> set[str]:
        """Ids of steps this step reads from (implicit dependencies)."""
        found: set[str] = set()
        for text in _strings(self.args) + ([self.foreach] if self.foreach else []):
            for ref in REF.findall(text):
                parts = ref.strip().split(".")
                if parts[0] == "steps" and len(parts) > 1:
                    found.add(parts[1])
        return found


class Plan(BaseModel):
    goal: str = ""
    workflow: str | None = None
    strategy: str = ""
    reasoning: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    # Each parameter's value with its provenance: {"value", "source": request|model|past_run|default|run, "evidence"}
    slots: dict[str, Any] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    jobs: list[str] = Field(default_factory=list)  # a plan of two deliverables: its jobs in order
    # Readings the run did not take (a close second job), each with the command that takes it.
    other_readings: list[str] = Field(default_factory=list)
    # A partial plan: the job's steps it leaves out, and the parameter whose absence left them out.
    left_out: list[str] = Field(default_factory=list)
    left_out_for: str | None = None

    @model_validator(mode="after")
    def _dag(self) -> "Plan":
        ids = [s.id for s in self.steps]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"duplicate step ids: {sorted(dupes)}")
        known = set(ids)
        for step in self.steps:
            implicit = step.references() - set(step.depends_on)
            step.depends_on = list(dict.fromkeys(step.depends_on + sorted(implicit)))
            missing = [d for d in step.depends_on if d not in known]
            if missing:
                raise ValueError(f"step {step.id!r} depends on unknown steps {missing}")
            if step.id in step.depends_on:
                raise ValueError(f"step {step.id!r} depends on itself")
        check_acyclic({s.id: s.depends_on for s in self.steps})
        return self

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)


def argument_errors(step: Step) -> list[str]:
    """What is wrong with a step's arguments before it runs, against its tool's signature: an
    unknown tool, unknown arguments, required arguments not set. References are not resolved here:
    a `${...}` value counts as set. Workflow files and model-written plans are both checked here."""
    try:
        spec = get_tool(step.tool)
    except ToolError as exc:
        return [str(exc)]
    fields = spec.args_model.model_fields
    errors = []
    unknown = [a for a in step.args if a not in fields]
    if unknown:
        errors.append(f"tool {step.tool} has no arguments {unknown} (it takes {sorted(fields)})")
    missing = [n for n, f in fields.items() if f.is_required() and n not in step.args]
    if missing:
        errors.append(f"required arguments {missing} of {step.tool} are not set")
    return errors


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class ReferenceError_(KeyError):
    pass


def lookup(path: str, scope: dict[str, Any]) -> Any:
    """Follow a dotted path (`steps.find.scenes.0.start`) through dicts, lists and models."""
    node: Any = scope
    for part in path.strip().split("."):
        if isinstance(node, BaseModel):
            node = node.model_dump(mode="json")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and re.fullmatch(r"-?\d+", part) and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            raise ReferenceError_(f"reference ${{{path}}} cannot be resolved at {part!r}")
    return node


def resolve_refs(value: Any, scope: dict[str, Any]) -> Any:
    """Replace references in `value` (recursively) with values from `scope`."""
    if isinstance(value, str):
        whole = REF.fullmatch(value.strip())
        if whole:
            return lookup(whole.group(1), scope)
        return REF.sub(lambda m: str(lookup(m.group(1), scope)), value)
    if isinstance(value, dict):
        return {k: resolve_refs(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, scope) for v in value]
    return value
