"""Model switches with plan-aware ordering vs the plan's own order, and the scheduler's overhead.

Generated mixed plans (k SDXL steps, m LLM steps, some TTS/neutral steps, random dependencies,
fixed seed). The anchor is the naive order (steps as written); the minimum is checked by brute force
on the plans small enough for it. Overhead: µs per `use()` of an already-resident model and per
switch on the CPU-only profile, against an empty `with` block of the same shape.

    python benchmarks/scheduler_switches.py
"""
from __future__ import annotations

import random
import statistics
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.core.scheduler import ResourceScheduler
from tools.core.scheduler.ordering import brute_force_min_switches, count_switches, order_steps


@dataclass
class Step:
    id: str
    resources: list[str]
    depends_on: list[str] = field(default_factory=list)


def make_plan(rng: random.Random, k: int, m: int, extra: int, dep_p: float) -> list[Step]:
    kinds = ["sdxl"] * k + ["llm"] * m + rng.choices([["tts"], []], k=extra)
    rng.shuffle(kinds)
    steps = []
    for i, kind in enumerate(kinds):
        res = kind if isinstance(kind, list) else [kind]
        deps = [f"s{j}" for j in range(max(0, i - 6), i) if rng.random() < dep_p]
        steps.append(Step(f"s{i}", res, deps))
    return steps


def brute_force(steps, conflicts) -> int:
    return brute_force_min_switches(steps, conflicts)


def overhead_us(n: int = 20000) -> tuple[float, float, float]:
    sched = ResourceScheduler()  # cpu-only profile: what this machine runs
    with sched.use("llm"):
        pass
    t = time.perf_counter()
    for _ in range(n):
        with sched.use("llm"):
            pass
    resident = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for _ in range(n):
        with nullcontext():
            pass
    empty = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for i in range(n // 10):
        with sched.use("sdxl" if i % 2 else "llm"):
            pass
    switch = (time.perf_counter() - t) / (n // 10) * 1e6
    return resident, switch, empty


def main() -> None:
    rng = random.Random(20240607)
    conflicts = ResourceScheduler().conflicts
    naive_total = ours_total = 0
    order_ms = []
    print("plan  k  m  extra  naive  ours  minimum")
    for i in range(40):
        small = i < 12
        k, m = (rng.randint(2, 4), rng.randint(2, 3)) if small else (rng.randint(3, 15), rng.randint(3, 15))
        steps = make_plan(rng, k, m, rng.randint(0, 1 if small else 5), dep_p=rng.choice([0.1, 0.25, 0.4]))
        naive = count_switches(steps, [s.id for s in steps], conflicts)
        t = time.perf_counter()
        order = order_steps(steps, conflicts)
        order_ms.append((time.perf_counter() - t) * 1e3)
        ours = count_switches(steps, order, conflicts)
        minimum = brute_force(steps, conflicts) if len(steps) <= 8 else "-"
        if minimum != "-" and ours != minimum:
            print(f"ERROR: plan {i} not minimal ({ours} > {minimum})")
        naive_total += naive
        ours_total += ours
        print(f"{i:4d} {k:2d} {m:2d} {len(steps) - k - m:6d} {naive:6d} {ours:5d} {minimum!s:>8}")
    resident, switch, empty = overhead_us()
    ratio = ours_total / naive_total
    print(f"switches total: naive={naive_total} plan-aware={ours_total}")
    print(f"ordering time per plan: median={statistics.median(order_ms):.2f} ms max={max(order_ms):.2f} ms")
    print(f"acquire overhead: resident={resident:.2f} us  switch={switch:.2f} us  empty-with={empty:.2f} us")
    print(f"BENCH scheduler_switches: ratio={ratio:.3f} goal<=0.5 {'PASS' if ratio <= 0.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
