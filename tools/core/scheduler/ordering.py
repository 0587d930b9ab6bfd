"""Plan-aware ordering: a topological order of the plan's steps with the fewest model switches.

A switch is an acquire that has to evict a resident model (the exclusive groups forbid both). Running
a step whose models are already resident never costs anything and only unlocks more steps, so every
such step is run as soon as it is ready ("closure"). What remains is the choice, at each phase, of
which model to switch to: a shortest-path search over (steps done, models resident) states with 0/1
edge costs finds the minimum. Plans are small (tens of steps) and the closure collapses most states,
so the search is cheap; past `max_states` it falls back to a one-step lookahead greedy.
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Sequence

from tools.core.dag import check_acyclic

Conflicts = Callable[[str], set[str]]


def _apply(state: frozenset[str], needs: Iterable[str], conflicts: Conflicts) -> tuple[frozenset[str], int]:
    """Resident set after acquiring `needs` in order, and how many of those acquires evicted something."""
    current, switches = set(state), 0
    for r in needs:
        if r in current:
            continue
        blockers = conflicts(r) & current
        if blockers:
            switches += 1
            current -= blockers
        if conflicts(r):  # only exclusive resources matter for switching
            current.add(r)
    return frozenset(current), switches


def count_switches(steps: Sequence, order: Sequence[str], conflicts: Conflicts,
                   initial: Iterable[str] = ()) -> int:
    """Switches the scheduler makes running `steps` in `order` (LRU/budget evictions aside)."""
    by_id = {s.id: s for s in steps}
    state, total = frozenset(initial), 0
    for sid in order:
        state, n = _apply(state, by_id[sid].resources, conflicts)
        total += n
    return total


class _Plan:
    def __init__(self, steps: Sequence, conflicts: Conflicts):
        self.steps = list(steps)
        self.conflicts = conflicts
        self.ids = [s.id for s in self.steps]
        index = {sid: i for i, sid in enumerate(self.ids)}
        self.deps = [0] * len(self.steps)
        for i, s in enumerate(self.steps):
            for d in s.depends_on:
                if d in index:  # references outside the plan (inputs) constrain nothing
                    self.deps[i] |= 1 << index[d]
        self.excl = [frozenset(r for r in s.resources if conflicts(r)) for s in self.steps]
        self.full = (1 << len(self.steps)) - 1

    def ready(self, done: int) -> list[int]:
        return [i for i in range(len(self.steps)) if not done >> i & 1 and self.deps[i] & ~done == 0]

    def closure(self, done: int, state: frozenset[str], order: list[int]) -> int:
        """Run every ready step whose exclusive models are all resident (free), in plan order."""
        progress = True
        while progress:
            progress = False
            for i in self.ready(done):
                if self.excl[i] <= state:
                    done |= 1 << i
                    order.append(i)
                    progress = True
                    break  # re-scan from the start so plan order wins among ready steps
        return done

    def transitions(self, done: int, state: frozenset[str]) -> dict[frozenset[str], tuple[int, int]]:
        """Distinct resident sets reachable by starting one ready non-free step: state -> (cost, step)."""
        out: dict[frozenset[str], tuple[int, int]] = {}
        for i in self.ready(done):
            if self.excl[i] <= state:
                continue
            new, cost = _apply(state, self.steps[i].resources, self.conflicts)
            if new not in out or cost < out[new][0]:
                out[new] = (cost, i)
        return out


def brute_force_min_switches(steps: Sequence, conflicts: Conflicts) -> int:
    """The true minimum over every dependency-respecting order (small plans only: n! orders).

    The reference the exact search is checked against in tests and benchmarks.
    """
    best: int | None = None
    for perm in itertools.permutations(steps):
        seen: set[str] = set()
        valid = True
        for step in perm:
            if any(d not in seen for d in step.depends_on):
                valid = False
                break
            seen.add(step.id)
        if valid:
            n = count_switches(steps, [s.id for s in perm], conflicts)
            best = n if best is None else min(best, n)
    return best if best is not None else 0


def order_steps(steps: Sequence, conflicts: Conflicts, initial: Iterable[str] = (),
                max_states: int = 20000) -> list[str]:
    """A dependency-respecting order with the minimum number of switches (exact up to `max_states`)."""
    plan = _Plan(steps, conflicts)
    if not plan.steps:
        return []
    check_acyclic({s.id: s.depends_on for s in plan.steps})
    start_state = frozenset(r for r in initial if conflicts(r))
    first: list[int] = []
    start_done = plan.closure(0, start_state, first)
    # Dijkstra over (done, state); each node remembers its parent and the steps run to reach it.
    best: dict[tuple[int, frozenset[str]], int] = {(start_done, start_state): 0}
    parent: dict[tuple[int, frozenset[str]], tuple[tuple[int, frozenset[str]] | None, list[int]]] = {
        (start_done, start_state): (None, first)}
    heap: list[tuple[int, int, int, tuple[int, frozenset[str]]]] = [(0, 0, 0, (start_done, start_state))]
    tie = 0
    expanded = 0
    while heap:
        cost, _neg_done, _, node = heapq.heappop(heap)
        if cost > best.get(node, cost):
            continue
        done, state = node
        if done == plan.full:
            return _unwind(plan, node, parent)
        expanded += 1
        if expanded > max_states:
            return _greedy(plan, start_state)
        for new_state, (edge, step) in plan.transitions(done, state).items():
            ran = [step]
            new_done = plan.closure(done | 1 << step, new_state, ran)
            key = (new_done, new_state)
            if cost + edge < best.get(key, 1 << 30):
                best[key] = cost + edge
                parent[key] = (node, ran)
                tie += 1
                heapq.heappush(heap, (cost + edge, -new_done.bit_count(), tie, key))
    raise AssertionError("unreachable: an acyclic plan always completes")  # pragma: no cover


def _unwind(plan: _Plan, node, parent) -> list[str]:
    chunks: list[list[int]] = []
    while node is not None:
        node, ran = parent[node]
        chunks.append(ran)
    return [plan.ids[i] for chunk in reversed(chunks) for i in chunk]


def _greedy(plan: _Plan, state: frozenset[str]) -> list[str]:
    """Cheapest next switch, ties broken by how many steps it unlocks (one-step lookahead)."""
    order: list[int] = []
    done = plan.closure(0, state, order)
    while done != plan.full:
        options = []
        for new_state, (edge, step) in plan.transitions(done, state).items():
            ran = [step]
            new_done = plan.closure(done | 1 << step, new_state, ran)
            options.append((edge, -len(ran), step, new_state, new_done, ran))
        edge, _, _, state, done, ran = min(options, key=lambda o: o[:3])
        order.extend(ran)
    return [plan.ids[i] for i in order]
