"""The planning test sets: loading, the files each case gives its run, and judging a plan.

The sets, scored the same way by the tests and benchmarks/planning.py:
- the tuning set (requests.yaml): our own words; the rules were written against it;
- the frozen set (frozen.yaml): written by someone who never saw the router, committed before any
  rule change and never tuned on. Its goal (>= 0.9) is the benchmark's;
- frozen_2.yaml (fresh wording before round 3; tuned on from round 4) and frozen_3.yaml (fresh wording
  before round 4, never tuned on), reported beside it.

A case's outcome is right when the plan delivers the expected job(s) in order and the arguments the
request states reach the steps, or, when the request leaves something out (`ask`), when the run asks
for that (a `needs_input` question of that kind about the expected job).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, field_validator

CASES_FILE = Path(__file__).with_name("requests.yaml")
FROZEN_FILE = Path(__file__).with_name("frozen.yaml")
FROZEN_2_FILE = Path(__file__).with_name("frozen_2.yaml")  # second frozen set (round c); tuned on from round d
FROZEN_3_FILE = Path(__file__).with_name("frozen_3.yaml")  # third frozen set, fresh wording, never tuned on
DATASET = "harbour_set"  # the dataset the sets' requests name, made by `make_world`

AskKind = Literal["film", "refs", "dataset", "time", "line", "scene", "choice"]


class Case(BaseModel):
    request: str
    lang: Literal["en", "it"] = "en"
    film: bool = False
    inputs: list[str] = Field(default_factory=list)  # "picture" (a reference image) | "refs" (a folder)
    expect: list[str]  # the job, or the jobs in order for a request with two deliverables
    ask: AskKind | None = None  # what is missing: the right outcome is a question of this kind
    args: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("expect", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> list[str]:
        return [value] if isinstance(value, str) else list(value)

    @property
    def job(self) -> str:
        return self.expect[0]


def load_cases(path: Path = CASES_FILE) -> list[Case]:
    return [Case.model_validate(c) for c in yaml.safe_load(path.read_text(encoding="utf-8"))]


def load_frozen() -> list[Case]:
    return load_cases(FROZEN_FILE)


def make_world(root: Path) -> dict[str, Path]:
    """Files the cases refer to: a reference picture, a refs/ folder, an existing dataset."""
    import numpy as np
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    picture = root / "reference pose.png"
    if not picture.exists():
        Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype("uint8")).save(picture)
    refs = root / "refs" / "Pip"
    refs.mkdir(parents=True, exist_ok=True)
    dataset = root / "datasets" / DATASET
    dataset.mkdir(parents=True, exist_ok=True)
    (dataset / "metadata.json").write_text(json.dumps({"name": DATASET}), encoding="utf-8")
    return {"picture": picture, "refs": root / "refs", "datasets": root / "datasets"}


def case_inputs(case: Case, world: dict[str, Path]) -> list[Path]:
    return [world[name] for name in case.inputs]


def planned_jobs(plan: dict | None, workflow: str | None = None) -> list[str]:
    """The jobs a plan delivers, in order (a plan of two deliverables lists both)."""
    plan = plan or {}
    return list(plan.get("jobs") or ([plan["workflow"]] if plan.get("workflow") else ([workflow] if workflow else [])))


def _args_ok(case: Case, plan: dict | None) -> tuple[bool, str]:
    if plan is None or not case.args:
        return True, ""
    steps = {s["id"]: s for s in plan.get("steps", [])}
    for step_id, wanted in case.args.items():
        if step_id not in steps:  # a step of a two-job plan is prefixed with its job
            step_id = next((k for k in steps if k.endswith("." + step_id)), step_id)
        got = steps.get(step_id, {}).get("args", {})
        for key, value in wanted.items():
            if got.get(key) != value:
                return False, f"{step_id}.{key} = {got.get(key)!r}, expected {value!r}"
    return True, ""


def judge(case: Case, workflow: str | None, plan: dict | None = None, question: dict | None = None) -> tuple[bool, str]:
    """Right outcome: the expected job(s) with the stated arguments, or the expected question."""
    jobs = planned_jobs(plan, workflow) if plan is not None else ([workflow] if workflow else [])
    if case.ask:
        if not question:
            return False, f"planned {jobs or None} without asking; expected a question ({case.ask})"
        if question.get("kind") != case.ask:
            return False, f"asked {question.get('kind')} ({question.get('question', '')[:80]}), expected {case.ask}"
        offered = [o.get("job") for o in question.get("options") or [] if o.get("job")]
        asked_about = list(question.get("jobs") or [question.get("job")])
        if case.ask == "choice":
            return (case.job in offered or case.job in asked_about), f"choice between {offered}, expected {case.job} among them"
        if asked_about[: len(case.expect)] != case.expect and asked_about[:1] != case.expect[:1]:
            return False, f"asked {case.ask} for {asked_about}, expected {case.expect}"
        return True, ""
    if question:
        return False, f"asked {question.get('kind')} ({question.get('question', '')[:80]}); expected {case.expect}"
    if jobs != case.expect:
        return False, f"routed to {jobs or None}, expected {case.expect}"
    return _args_ok(case, plan if case.args else None)
