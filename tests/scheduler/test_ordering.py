"""Plan-aware ordering reaches the true minimum of switches and never breaks a dependency."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tools.core.scheduler import ResourceScheduler
from tools.core.scheduler.ordering import brute_force_min_switches, count_switches, order_steps

CONFLICTS = ResourceScheduler().conflicts  # [llm, sdxl] exclusive; tts free


@dataclass
class S:
    id: str
    resources: list[str]
    depends_on: list[str] = field(default_factory=list)


def brute_force_min(steps, conflicts=CONFLICTS) -> int:
    return brute_force_min_switches(steps, conflicts)


def assert_topological(steps, order):
    assert sorted(order) == sorted(s.id for s in steps)
    pos = {sid: i for i, sid in enumerate(order)}
    for s in steps:
        for d in s.depends_on:
            assert pos[d] < pos[s.id], f"{s.id} ran before its dependency {d}"


@st.composite
def plans(draw, max_steps=7):
    n = draw(st.integers(2, max_steps))
    steps = []
    for i in range(n):
        res = draw(st.sampled_from([["llm"], ["sdxl"], ["tts"], [], ["sdxl", "tts"]]))
        deps = draw(st.lists(st.sampled_from([f"s{j}" for j in range(i)]), unique=True, max_size=2)) if i else []
        steps.append(S(f"s{i}", res, deps))
    return steps


@hsettings(max_examples=150, deadline=None)
@given(plans())
def test_order_reaches_the_brute_force_minimum(steps):
    order = order_steps(steps, CONFLICTS)
    assert_topological(steps, order)
    assert count_switches(steps, order, CONFLICTS) == brute_force_min(steps)


def test_interleaved_plan_groups_models():
    # write (llm) -> image (sdxl) alternating, all independent: naive order switches 5 times
    steps = [S(f"s{i}", ["llm" if i % 2 == 0 else "sdxl"]) for i in range(6)]
    naive = count_switches(steps, [s.id for s in steps], CONFLICTS)
    order = order_steps(steps, CONFLICTS)
    assert naive == 5 and count_switches(steps, order, CONFLICTS) == 1


def test_starts_from_what_is_resident():
    steps = [S("a", ["llm"]), S("b", ["sdxl"])]
    assert order_steps(steps, CONFLICTS, initial=["sdxl"]) == ["b", "a"]
    sched = ResourceScheduler()
    with sched.use("sdxl"):
        pass
    assert sched.order(steps) == ["b", "a"]


def test_large_plan_falls_back_to_greedy_and_stays_valid():
    steps = [S(f"s{i}", ["llm" if i % 3 else "sdxl"], [f"s{i - 4}"] if i >= 4 else []) for i in range(40)]
    order = order_steps(steps, CONFLICTS, max_states=5)
    assert_topological(steps, order)
    assert count_switches(steps, order, CONFLICTS) < count_switches(steps, [s.id for s in steps], CONFLICTS)


def test_cycle_is_reported():
    with pytest.raises(ValueError, match="cycle"):
        order_steps([S("a", ["llm"], ["b"]), S("b", ["sdxl"], ["a"])], CONFLICTS)


def test_three_member_group_needs_search_not_greedy():
    conflicts = lambda r: {"a", "b", "c"} - {r} if r in {"a", "b", "c"} else set()
    steps = [S("b1", ["b"]), S("c1", ["c"], ["b1"]), S("a1", ["a"]), S("c2", ["c"], ["a1"]), S("a2", ["a"], ["c2"])]
    order = order_steps(steps, conflicts)
    assert_topological(steps, order)
    assert count_switches(steps, order, conflicts) == brute_force_min(steps, conflicts) == 3
