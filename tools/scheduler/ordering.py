"""Plan-aware ordering: a topological order that keeps steps of one resource together."""
from __future__ import annotations

from typing import Callable, Sequence


def order_steps(steps: Sequence, conflicts: Callable[[str], set[str]]) -> list[str]:
    """Kahn's algorithm; among ready steps prefer one needing no switch from the current resource."""
    by_id = {s.id: s for s in steps}
    pending = {s.id: {d for d in s.depends_on if d in by_id} for s in steps}
    index = {s.id: i for i, s in enumerate(steps)}
    order: list[str] = []
    current: set[str] = set()
    while pending:
        ready = [sid for sid, deps in pending.items() if not deps]
        if not ready:
            raise ValueError(f"plan has a dependency cycle among {sorted(pending)}")

        def cost(sid: str) -> tuple[int, int, int]:
            needs = set(by_id[sid].resources)
            switch = any(conflicts(r) & current for r in needs)
            # Steps with no exclusive resource go first: they never cost a switch.
            exclusive = any(conflicts(r) for r in needs)
            return (int(switch), int(exclusive and not (needs & current)), index[sid])

        ready.sort(key=cost)
        chosen = ready[0]
        order.append(chosen)
        needs = set(by_id[chosen].resources)
        if needs:
            current = {r for r in current if not any(r in conflicts(n) for n in needs)} | needs
        del pending[chosen]
        for deps in pending.values():
            deps.discard(chosen)
    return order
