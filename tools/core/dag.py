"""The one dependency-cycle check, shared by plans (workflows/plan.py) and plan ordering (scheduler)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping


def check_acyclic(deps: Mapping[str, Iterable[str]]) -> None:
    """Raise ValueError naming the steps on or behind a cycle. `deps`: step id → ids it waits for;
    ids that are not keys (inputs from outside the plan) constrain nothing."""
    waiting = {k: set(v) & set(deps) for k, v in deps.items()}
    done: set[str] = set()
    while waiting:
        ready = [k for k, v in waiting.items() if v <= done]
        if not ready:
            raise ValueError(f"plan has a dependency cycle among {sorted(waiting)}")
        for k in ready:
            done.add(k)
            del waiting[k]
