"""Workflows: YAML plan templates validated against the tool registry at load time."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from workflows.plan import REF, Plan, Step, argument_errors, resolve_refs

WORKFLOW_DIR = Path(__file__).resolve().parent

_TYPES: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool, "list[str]": list[str],
                          "path": str}


class WorkflowError(ValueError):
    """A workflow file is invalid; the message names the file and the problem."""


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["str", "int", "float", "bool", "list[str]", "path"] = "str"
    description: str = ""
    default: Any = None
    required: bool = False
    # None: when the parameter is passed whole to a tool argument that takes a fixed set of values
    # (a Literal), that set — the tool's signature is the one place it is written.
    choices: list[Any] | None = None
    # Where a value can come from without asking the model: "film" (the film of this run), "request",
    # "input" (a file the user named for this run that fits `input_kind`).
    source: Literal["film", "request", "input", "llm"] = "llm"
    # The kind of request slot that states this value (scene, said, position, tone, duration,
    # characters, extend...): the request's words win over the model, past runs and the default.
    slot: str | None = None
    input_kind: Literal["image", "folder", "any"] = "any"
    # When nothing states the value: made from the others, e.g. "{character}_dataset" ({film_stem}: the film's
    # file name). Spares the model a guess it cannot do better than a rule.
    derive: str | None = None
    # The steps that can still run when nothing gives this value: offered as an answer to the question
    # for it ("a dataset of every character's frames, without matching to Alberto").
    without: list[str] = Field(default_factory=list)
    # The kind of thing an earlier job of the same plan can give this parameter (a job's `gives:`), e.g.
    # "text": in "write a joke and have the captain say it" the line is the written text.
    takes: str | None = None
    # For an optional parameter: it takes that only when this bool parameter of the job is true (a written
    # text becomes the narration only when a narrator is asked for).
    takes_if: str | None = None


class RouteCues(BaseModel):
    """How the router recognises the job in a request (agent/planning/routing/router.py).

    Words are stems matched at word starts, case-insensitively, English and Italian side by side
    ("immagin" matches immagine and immagini; "cut$" only the whole word). `verbs` and `objects` name
    the job; `context` words only make it likelier (film, scene). `phrases` are regular expressions
    that are strong evidence on their own. `signals` weigh facts about the request and the run
    (agent/planning/routing/signals.py), positive or negative; "not_<signal>" weighs its absence.
    `object_signals` count as the job's object, as an object word would.
    """

    model_config = ConfigDict(extra="forbid")
    task: Literal["parody", "dataset", "image", "library", "video_edit", "voice", "analysis", "question",
                  "other"] = "other"
    verbs: list[str] = Field(default_factory=list)
    objects: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)
    signals: dict[str, float] = Field(default_factory=dict)
    # Signals that name what the job works on, as an object word would: "the part from 0:45 to 1:10" is
    # a clip by times because a time range is stated, whatever noun stands beside it.
    object_signals: list[str] = Field(default_factory=list)
    # Cues that are Italian words, written `word@it` in the lists above (the mark is taken off there): a
    # plainly English request does not meet them ("separa" is not "separate", "conta" not "contact").
    italian: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _italian_marked(self) -> "RouteCues":
        marked = set(self.italian)
        for name in ("verbs", "objects", "context"):
            words = getattr(self, name)
            marked |= {w.removesuffix("@it") for w in words if w.endswith("@it")}
            setattr(self, name, [w.removesuffix("@it") for w in words])
        self.italian = sorted(marked)
        return self

    def english(self, name: str) -> list[str]:
        """The cue list `name` without its Italian words."""
        italian = set(self.italian)
        return [w for w in getattr(self, name) if w not in italian]

    @model_validator(mode="after")
    def _patterns_compile(self) -> "RouteCues":
        for pattern in self.phrases:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"phrase {pattern!r} is not a valid regular expression: {exc}") from None
        return self


class Alternative(BaseModel):
    """Something the user can do now when this job's model is not configured."""

    model_config = ConfigDict(extra="forbid")
    workflow: str
    say: str  # a request the user can type, e.g. "cut the beach scene out of my film"


CheckKind = Literal["steps_succeeded", "artifact_exists", "scorer"]
CHECK_KINDS: tuple[str, ...] = get_args(CheckKind)  # each has an evaluator in agent/nodes/checks.py


class WorkflowCheck(BaseModel):
    """How a run of the workflow is scored: all steps succeeded; a step made a file of a kind; a step's
    result is a score report ({combined, passed, reasons, blame, findings})."""

    model_config = ConfigDict(extra="forbid")
    kind: CheckKind = "steps_succeeded"
    step: str | None = None
    artifact_kind: str | None = None
    scorer: str | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> "WorkflowCheck":
        if self.kind in ("artifact_exists", "scorer") and not self.step:
            raise ValueError(f"a {self.kind} check needs `step`")
        if self.kind == "artifact_exists" and not self.artifact_kind:
            raise ValueError("an artifact_exists check needs `artifact_kind` (e.g. lora, video, image)")
        return self


class ReviewPoint(BaseModel):
    """A pause for a person after a step (agent.review / --review): approve, edit or reject its result."""

    model_config = ConfigDict(extra="forbid")
    step: str
    kind: Literal["script", "scene"]
    # "unsure": only when the scene search is unsure (best score below min_score, or the runner-up
    # within min_margin of it); "always": every time the step finishes.
    when: Literal["always", "unsure"] = "always"
    min_score: float = 0.0
    min_margin: float = 0.0


class Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str = ""  # the job in a few words, for answers: "draw a character from its preset"
    description: str
    examples: list[str] = Field(default_factory=list)  # shown to users; routing does not use them
    needs_film: bool = False
    route: RouteCues = Field(default_factory=RouteCues)
    alternatives: list[Alternative] = Field(default_factory=list)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)  # none: the answer comes from knowledge / the web
    checks: list[WorkflowCheck] = Field(default_factory=lambda: [WorkflowCheck()])
    answer: str = ""  # a template for the final answer, with ${...} references
    # What a scorer's blame tag means in this workflow: tag → the step ids to redo next iteration.
    on_blame: dict[str, list[str]] = Field(default_factory=dict)
    review: list[ReviewPoint] = Field(default_factory=list)
    # What this job makes that a later job of the same plan can take: a kind → a reference to a step's
    # output, e.g. {text: "${steps.write.text}"} (a parameter with `takes: text` gets it).
    gives: dict[str, str] = Field(default_factory=dict)

    def params_model(self) -> type[BaseModel]:
        """A pydantic model of the parameters the LLM must fill (typed slots)."""
        fields: dict[str, Any] = {}
        for name, p in self.parameters.items():
            if p.source != "llm":
                continue
            typ = _TYPES[p.type]
            if p.choices:
                typ = Literal[tuple(p.choices)]  # type: ignore[valid-type]
            default = ... if p.required and p.default is None else p.default
            fields[name] = (typ if default is not None or p.required else typ | None,
                            Field(default, description=p.description))
        return create_model(f"{self.name}_params", __config__=ConfigDict(extra="ignore"), **fields)

    def instantiate(self, params: dict[str, Any], goal: str = "", strategy: str = "") -> Plan:
        """Fill the template with parameter values (defaults for missing ones)."""
        values = {n: p.default for n, p in self.parameters.items()}
        values.update({k: v for k, v in params.items() if v is not None})
        missing = [n for n, p in self.parameters.items() if p.required and values.get(n) in (None, "")]
        if missing:
            raise WorkflowError(f"workflow {self.name}: missing required parameters {missing}")
        steps = []
        for step in self.steps:
            # Parameters are substituted now; step outputs stay as references for the executor.
            args = _fill_params(step.args, values)
            steps.append(step.model_copy(update={"args": args}))
        return Plan(goal=goal, workflow=self.name, strategy=strategy, params=values, steps=steps)


def _fill_params(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, str) and "${params." in value:
        only_params = all(r.strip().startswith("params.") for r in REF.findall(value))
        if only_params:
            return resolve_refs(value, {"params": params})
    if isinstance(value, dict):
        return {k: _fill_params(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_params(v, params) for v in value]
    return value


def validate_against_registry(wf: Workflow, source: str) -> None:
    ids = {s.id for s in wf.steps}
    for step in wf.steps:
        errors = argument_errors(step)
        if errors:
            raise WorkflowError(f"{source}: step {step.id!r}: {errors[0]}")
        for ref in REF.findall(str(step.args)):
            head = ref.strip().split(".")
            if head[0] == "params" and head[1] not in wf.parameters:
                raise WorkflowError(f"{source}: step {step.id!r} uses unknown parameter {head[1]!r}")
            if head[0] == "steps" and head[1] not in ids:
                raise WorkflowError(f"{source}: step {step.id!r} references unknown step {head[1]!r}")
    from tools.core.findings import Blame

    for tag, steps in wf.on_blame.items():
        if tag not in ids and tag not in {b.value for b in Blame}:
            raise WorkflowError(f"{source}: on_blame.{tag}: not a blame the scorers give "
                                f"({', '.join(b.value for b in Blame)}) nor a step id")
        unknown = [s for s in steps if s not in ids]
        if unknown:
            raise WorkflowError(f"{source}: on_blame.{tag} names unknown steps {unknown}")
    for point in wf.review:
        if point.step not in ids:
            raise WorkflowError(f"{source}: a review point names unknown step {point.step!r}")
    for name, param in wf.parameters.items():
        if param.takes_if and (param.takes_if not in wf.parameters or wf.parameters[param.takes_if].type != "bool"):
            raise WorkflowError(f"{source}: parameters.{name}.takes_if: {param.takes_if!r} is not a bool parameter")
    for kind, ref in wf.gives.items():
        head = (REF.fullmatch(ref.strip()) or [None, ""])[1].strip().split(".")
        if len(head) < 3 or head[0] != "steps" or head[1] not in ids:
            raise WorkflowError(f"{source}: gives.{kind}: {ref!r} is not a reference to a step's output "
                                "(${steps.<id>.<field>})")
    for check in wf.checks:
        if check.step and check.step not in ids:
            raise WorkflowError(f"{source}: a check names unknown step {check.step!r}")
    try:
        Plan(steps=wf.steps)  # dependency checks: unknown ids, cycles
    except ValidationError as exc:
        raise WorkflowError(f"{source}: {exc.errors()[0]['msg']}") from None


def load_workflow(path: Path) -> Workflow:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise WorkflowError(f"cannot read workflow {path}: {exc}") from None
    try:
        wf = Workflow.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise WorkflowError(f"{path}: '{loc}': {err['msg']}") from None
    validate_against_registry(wf, str(path))
    _choices_from_tools(wf)
    return wf


def _choices_from_tools(wf: Workflow) -> None:
    """Parameters without `choices` that a step passes whole to a Literal-typed tool argument take its values."""
    from tools.core.registry import get_tool

    for name, param in wf.parameters.items():
        if param.choices is not None:
            continue
        for step in wf.steps:
            for arg, value in step.args.items():
                if value != f"${{params.{name}}}":
                    continue
                annotation = get_tool(step.tool).args_model.model_fields[arg].annotation
                if get_origin(annotation) is Literal:
                    param.choices = list(get_args(annotation))


@lru_cache(maxsize=4)
def _load_all(folder: str) -> dict[str, Workflow]:
    out: dict[str, Workflow] = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        wf = load_workflow(path)
        out[wf.name] = wf
    if Path(folder).resolve() == WORKFLOW_DIR:  # the shipped set must be closed under its alternatives
        for wf in out.values():
            unknown = [a.workflow for a in wf.alternatives if a.workflow not in out]
            if unknown:
                raise WorkflowError(f"workflow {wf.name}: alternatives name unknown workflows {unknown}")
    return out


def all_workflows(folder: Path | None = None) -> dict[str, Workflow]:
    return _load_all(str(folder or WORKFLOW_DIR))


def get_workflow(name: str, folder: Path | None = None) -> Workflow:
    flows = all_workflows(folder)
    if name not in flows:
        raise WorkflowError(f"unknown workflow {name!r}; known: {sorted(flows)}")
    return flows[name]
