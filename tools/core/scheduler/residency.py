"""Residency: who is resident in this process, who uses it now, and the VRAM bookkeeping.

`last_use` (resource → clock of last use: the LRU order) and `refs` (calls using it now) say who is
resident. Unload calls return before the driver frees memory, so evicted estimates stay
`unconfirmed_gb` until `wait_for_memory` has seen the free memory come back from the probe.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from tools.core.scheduler.devices import MemoryProbe
from tools.core.scheduler.policy import SchedulerError
from tools.core.scheduler.profiles import HardwareProfile


class Residency:
    def __init__(self, profile: HardwareProfile, probe: MemoryProbe | None, *, clock: Callable[[], float],
                 sleep: Callable[[float], None], poll_interval_s: float, free_timeout_s: float):
        self.profile = profile
        self.probe = probe if profile.accounts_vram else None  # CPU-only: nothing to poll
        self._clock, self._sleep = clock, sleep
        self.poll_interval_s, self.free_timeout_s = poll_interval_s, free_timeout_s
        self.last_use: dict[str, float] = {}
        self.refs: Counter[str] = Counter()
        self.unconfirmed_gb = 0.0  # estimates of evicted models the driver may not report free yet

    # -- who is resident -------------------------------------------------------------------------
    def __contains__(self, resource: str) -> bool:
        return resource in self.last_use

    def names(self) -> list[str]:
        return sorted(self.last_use)

    def in_use(self) -> dict[str, int]:
        return {r: n for r, n in self.refs.items() if n > 0}

    def idle(self, resource: str) -> bool:
        return self.refs[resource] == 0

    def touch(self, resource: str) -> None:
        self.last_use[resource] = self._clock()

    def enter(self, resource: str) -> None:
        """One more call uses `resource` (now resident)."""
        self.touch(resource)
        self.refs[resource] += 1

    def leave(self, resource: str) -> None:
        self.refs[resource] -= 1
        self.touch(resource)

    def forget(self, resource: str) -> None:
        """`resource` was evicted: its estimate counts as unconfirmed until the driver shows it free."""
        if resource in self.last_use and self.probe is not None:
            self.unconfirmed_gb += self.profile.estimate(resource)
        self.last_use.pop(resource, None)

    # -- VRAM bookkeeping ---------------------------------------------------------------------------
    def own_gb(self) -> float:
        """Estimated VRAM held by this process's residents."""
        return sum(self.profile.estimate(r) for r in self.last_use)

    def free_gb(self) -> float | None:
        if self.probe is None:
            return None
        try:
            return self.probe.free_gb()
        except Exception:
            return None

    def processes(self) -> list:
        try:
            return self.probe.processes() if self.probe else []
        except Exception:
            return []

    def wait_for_memory(self, need: float | None, free_before: float | None, freed_gb: float) -> float:
        """Poll until the driver reports freed memory back (frees lag behind unload calls).

        The target is what was freed (90 %: estimates are upper bounds), capped at what the next model
        needs; once reached, the evictions count as confirmed.
        """
        if self.probe is None or free_before is None:
            self.unconfirmed_gb = 0.0
            return 0.0
        target = free_before + 0.9 * freed_gb
        if need is not None:
            target = min(need, target)
        start = self._clock()
        free = self.free_gb() or 0.0
        while free < target:
            if self._clock() - start >= self.free_timeout_s:
                holders = ", ".join(f"pid {p.pid} {p.name} {p.used_gb:.1f} GB" for p in self.processes()) or "unknown"
                raise SchedulerError(
                    f"GPU memory did not come back after evicting models: {free:.1f} GB free, "
                    f"{target:.1f} GB expected after {self.free_timeout_s:g}s; holders: {holders}",
                    "another program holds the GPU, or a model kept references; see `animstudio doctor`")
            self._sleep(self.poll_interval_s)
            free = self.free_gb() or 0.0
        self.unconfirmed_gb = 0.0
        return self._clock() - start
