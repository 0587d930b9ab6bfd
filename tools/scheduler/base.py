"""Scheduler interface and its in-process implementation.

`with scheduler.use("sdxl"):` makes a resource resident, first evicting whatever the exclusive
groups forbid beside it. Resident models are `ModelHandle`s registered by the code that owns them.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Protocol, Sequence, runtime_checkable

from tools.trace import NULL_TRACE, Trace


@runtime_checkable
class ModelHandle(Protocol):
    """A model that can be made resident and evicted (in-process pipeline or a server)."""

    def load(self) -> None: ...
    def unload(self) -> None: ...
    def is_loaded(self) -> bool: ...


@dataclass
class SwitchEvent:
    resource: str
    evicted: list[str]
    reason: str
    seconds: float


@dataclass
class Profile:
    name: str = "cpu-only"
    vram_budget_gb: float = 0.0
    headroom_gb: float = 0.0
    estimates_gb: dict[str, float] = field(default_factory=dict)
    exclusive_groups: list[list[str]] = field(default_factory=lambda: [["llm", "sdxl"]])


class ResourceScheduler:
    """Reference-counted residency with exclusive groups; CPU-only (no VRAM accounting)."""

    def __init__(self, profile: Profile | None = None, trace: Trace = NULL_TRACE):
        self.profile = profile or Profile()
        self.trace = trace
        self._lock = threading.RLock()
        self._refs: Counter[str] = Counter()
        self._resident: set[str] = set()
        self._handles: dict[str, list[ModelHandle]] = {}
        self.switches: list[SwitchEvent] = []

    # -- handles ---------------------------------------------------------------------------
    def register(self, resource: str, handle: ModelHandle) -> None:
        with self._lock:
            handles = self._handles.setdefault(resource, [])
            if handle not in handles:
                handles.append(handle)

    def unregister(self, resource: str, handle: ModelHandle) -> None:
        with self._lock:
            if handle in self._handles.get(resource, []):
                self._handles[resource].remove(handle)

    def resident(self) -> list[str]:
        with self._lock:
            return sorted(self._resident)

    # -- rules ------------------------------------------------------------------------------
    def conflicts(self, resource: str) -> set[str]:
        out: set[str] = set()
        for group in self.profile.exclusive_groups:
            if resource in group:
                out.update(r for r in group if r != resource)
        return out

    @contextmanager
    def use(self, *resources: str, reason: str = "") -> Iterator[None]:
        acquired: list[str] = []
        try:
            for resource in resources:
                self._acquire(resource, reason)
                acquired.append(resource)
            yield
        finally:
            for resource in reversed(acquired):
                with self._lock:
                    self._refs[resource] -= 1

    def _acquire(self, resource: str, reason: str) -> None:
        with self._lock:
            if resource in self._resident:
                self._refs[resource] += 1  # nested or repeated use costs nothing
                return
            start = time.perf_counter()
            blockers = [r for r in self.conflicts(resource) & self._resident]
            busy = [r for r in blockers if self._refs[r] > 0]
            if busy:
                raise RuntimeError(
                    f"cannot make {resource!r} resident while {busy} is in use in this process "
                    "(nested use of exclusive resources)"
                )
            for other in blockers:
                self._evict(other)
            self._resident.add(resource)
            self._refs[resource] += 1
            event = SwitchEvent(resource, blockers, reason, round(time.perf_counter() - start, 4))
            if blockers:
                self.switches.append(event)
            self.trace.event("scheduler.acquire", resource=resource, evicted=blockers, reason=reason,
                             seconds=event.seconds)

    def _evict(self, resource: str) -> None:
        for handle in self._handles.get(resource, []):
            if handle.is_loaded():
                handle.unload()
        self._resident.discard(resource)

    def evict_all(self, keep: Sequence[str] = ()) -> list[str]:
        """Evict every resident resource not in `keep` and not in use (OOM recovery)."""
        with self._lock:
            evicted = [r for r in sorted(self._resident) if r not in keep and self._refs[r] == 0]
            for r in evicted:
                self._evict(r)
            self.trace.event("scheduler.evict_all", evicted=evicted, kept=list(keep))
            return evicted

    def handle_oom(self, resources: Sequence[str], exc: BaseException) -> None:
        """Called by the registry on out-of-memory before the one low-memory retry."""
        self.trace.event("scheduler.oom", resources=list(resources), error=str(exc)[:300])
        self.evict_all(keep=resources)
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except Exception:
            pass

    # -- plan ordering ------------------------------------------------------------------------
    def order(self, steps: Sequence["StepLike"]) -> list[str]:
        """Topological order that groups steps by resource to minimise switches."""
        from tools.scheduler.ordering import order_steps

        return order_steps(steps, self.conflicts)


class StepLike(Protocol):
    id: str
    depends_on: list[str]
    resources: list[str]


def is_oom(exc: BaseException) -> bool:
    """True for torch's CUDA OOM and server-side out-of-memory answers."""
    name = type(exc).__name__
    if name in {"OutOfMemoryError", "OutOfMemory"}:
        return True
    text = str(exc).lower()
    return "out of memory" in text or "cuda oom" in text


def create_scheduler(settings, trace: Trace = NULL_TRACE) -> ResourceScheduler:
    """Build the scheduler for these settings (the hardware-aware profile is picked by name/auto)."""
    return ResourceScheduler(Profile(), trace)
