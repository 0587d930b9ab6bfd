"""The planning test set (requests.yaml): loading, the files each case gives its run, and judging a plan.

Shared by the tests and benchmarks/planning.py so both score the same way.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

CASES_FILE = Path(__file__).with_name("requests.yaml")
DATASET = "harbour_set"  # the dataset the set's requests name, made by `make_world`


class Case(BaseModel):
    request: str
    lang: Literal["en", "it"] = "en"
    film: bool = False
    inputs: list[str] = Field(default_factory=list)  # "picture" (a reference image) | "refs" (a folder)
    expect: str
    args: dict[str, dict[str, Any]] = Field(default_factory=dict)


def load_cases() -> list[Case]:
    return [Case.model_validate(c) for c in yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))]


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


def judge(case: Case, workflow: str | None, plan: dict | None = None) -> tuple[bool, str]:
    """Right job, and the arguments the request states reached the planned steps."""
    if workflow != case.expect:
        return False, f"routed to {workflow}, expected {case.expect}"
    if plan is None or not case.args:
        return True, ""
    if plan.get("workflow") != case.expect:
        return False, f"planned {plan.get('workflow')} ({plan.get('reasoning', '')[:120]})"
    steps = {s["id"]: s for s in plan.get("steps", [])}
    for step_id, wanted in case.args.items():
        got = steps.get(step_id, {}).get("args", {})
        for key, value in wanted.items():
            if got.get(key) != value:
                return False, f"{step_id}.{key} = {got.get(key)!r}, expected {value!r}"
    return True, ""
