"""The resource scheduler (docs/architecture.md, Contract 2): LLM XOR SDXL on one GPU.

`with scheduler.use("sdxl"):` makes a resource resident: it first evicts what the profile's exclusive
groups forbid beside it and what does not fit the VRAM budget (least recently used first), asks other
processes on this machine to do the same through the ledger, waits until the driver reports the freed
memory, wakes the resource's handles, and records the switch in the run trace. A resident resource
stays resident after the `with` block (reference counted), so repeated use costs nothing.

The rules live in `policy.py` (exclusive groups, budget, what to evict), who is resident and the
VRAM bookkeeping in `residency.py`, the cross-process ledger in `ledger.py`; this module applies
them under one lock, calls the handles and writes the trace.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

from tools.core.scheduler.devices import MemoryProbe
from tools.core.scheduler.ledger import Ledger, LedgerState
from tools.core.scheduler.policy import (
    SchedulerError,
    cannot_fit,
    conflicts,
    default_profile,
    evictions,
    over_budget,
    victims_elsewhere,
)
from tools.core.scheduler.profiles import HardwareProfile
from tools.core.scheduler.residency import Residency
from tools.core.trace import NULL_TRACE, Trace


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
    waited_for_memory_s: float = 0.0
    evicted_elsewhere: list[str] = field(default_factory=list)  # "llm@pid" evicted by another process


class ResourceScheduler:
    """Reference-counted residency under exclusive groups and a VRAM budget, optionally cross-process."""

    def __init__(self, profile: HardwareProfile | None = None, trace: Trace = NULL_TRACE, *,
                 probe: MemoryProbe | None = None, ledger: Ledger | None = None,
                 poll_interval_s: float = 0.25, free_timeout_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.profile = profile or default_profile()
        self.trace = trace
        self.residency = Residency(self.profile, probe, clock=clock, sleep=sleep,
                                   poll_interval_s=poll_interval_s, free_timeout_s=free_timeout_s)
        self.ledger = ledger
        self.poll_interval_s, self.free_timeout_s = poll_interval_s, free_timeout_s
        self._clock, self._sleep = clock, sleep
        self._lock = threading.RLock()
        self._handles: dict[str, list[ModelHandle]] = {}
        self._ledger_stamp: tuple[int, int] = (0, 0)
        self._deferred = False  # another process asked for a model that was in use: honour on release
        self._watcher: threading.Thread | None = None
        self._closed = threading.Event()
        self.switches: list[SwitchEvent] = []
        self.acquires = 0

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

    @property
    def probe(self):
        return self.residency.probe

    def resident(self) -> list[str]:
        with self._lock:
            return self.residency.names()

    def in_use(self) -> dict[str, int]:
        with self._lock:
            return self.residency.in_use()

    def conflicts(self, resource: str) -> set[str]:
        return conflicts(self.profile, resource)

    def resident_gb(self) -> float:
        """Estimated VRAM held by this process's resident resources and every other process's."""
        own = self.residency.own_gb()
        if self.ledger is None:
            return own
        others = self.ledger.snapshot().held_by_others(self.ledger.pid)
        return own + sum(e.estimate_gb for e in others)

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
                self._release(resource)

    # -- acquire / release ----------------------------------------------------------------------
    def _acquire(self, resource: str, reason: str) -> None:
        self.acquires += 1
        res = self.residency
        with self._lock:
            if resource in res and (not res.idle(resource) or not self._ledger_changed()):
                res.enter(resource)  # nested or repeated use of a resident model costs nothing
                return
        start = self._clock()
        free_at_start = res.free_gb()
        deadline = start + self.free_timeout_s
        asked: set[str] = set()  # "resource@pid" other processes were asked to evict for this call
        while True:
            with self._lock:
                done = self._try_make_resident(resource, reason, start, free_at_start, asked)
            if done:
                return
            if self._clock() >= deadline:
                raise SchedulerError(
                    f"{resource!r} is blocked by another process on this GPU for {self.free_timeout_s:g}s: "
                    f"{self._describe_blockers(resource)}",
                    "wait for the other run to finish, stop it, or raise scheduler.free_timeout_s")
            self._sleep(self.poll_interval_s)

    def _try_make_resident(self, resource: str, reason: str, start: float, free_at_start: float | None,
                           asked: set[str]) -> bool:
        res = self.residency
        if resource in res and res.idle(resource) and self._ledger_changed():
            self._honour_requests()  # another process may have asked for it, or the ledger was rebuilt
        if resource in res:  # still resident: nothing to switch
            res.enter(resource)
            return True
        blockers = sorted(self.conflicts(resource) & set(res.last_use))
        busy = [r for r in blockers if not res.idle(r)]
        if busy:
            raise SchedulerError(
                f"cannot make {resource!r} resident while {busy} is in use in this process "
                "(nested use of exclusive resources)",
                "finish using one model before starting the other (the profile forbids both resident)")
        if self.ledger is None:
            evicted = self._evict_for(resource, blockers, others_gb=0.0)
            evicted += self._unload_orphans(resource, evicted, held_elsewhere=set())
            return self._finish(resource, reason, start, free_at_start, evicted, [])
        with self.ledger.transaction() as state:
            self._report_pruned()
            others = state.held_by_others(self.ledger.pid)
            conflicting = [e for e in others if e.resource in self.conflicts(resource)]
            over = over_budget(self.profile, res.last_use, blockers, resource, sum(e.estimate_gb for e in others))
            if conflicting or over > 0:
                victims = conflicting or victims_elsewhere(others, over)
                for e in victims:
                    state.request(e.resource, e.pid, self.ledger.pid)
                    asked.add(f"{e.resource}@{e.pid}")
                if not victims:
                    raise cannot_fit(self.profile, resource, over, res.in_use())
                return False  # their owners evict when idle; poll again
            elsewhere = sorted(asked)
            state.requests = [r for r in state.requests if r.by_pid != self.ledger.pid]
            evicted = self._evict_for(resource, blockers, sum(e.estimate_gb for e in others))
            evicted += self._unload_orphans(resource, evicted, {e.resource for e in others})
            for r in evicted:
                state.drop(self.ledger.pid, r)
            state.entries.append(self.ledger.entry(resource, self.profile.estimate(resource)))
        self._ledger_stamp = self.ledger.stamp()
        self._ensure_watcher()
        return self._finish(resource, reason, start, free_at_start, evicted, elsewhere)

    def _evict_for(self, resource: str, blockers: list[str], others_gb: float) -> list[str]:
        """Evict what the policy says must go for `resource` (blockers, then LRU idle residents)."""
        evicted = evictions(self.profile, resource, blockers, self.residency.last_use, self.residency.refs, others_gb)
        for r in evicted:
            self._evict(r)
        return evicted

    def _unload_orphans(self, resource: str, evicted: list[str], held_elsewhere: set[str]) -> list[str]:
        """Conflicting servers this process never loaded (a vLLM awake since boot) hold memory too."""
        out = []
        for other in sorted(self.conflicts(resource) - set(evicted) - held_elsewhere - set(self.residency.last_use)):
            loaded = [h for h in self._handles.get(other, []) if h.is_loaded()]
            for handle in loaded:
                handle.unload()
            if loaded:
                out.append(other)
        return out

    def _finish(self, resource: str, reason: str, start: float, free_at_start: float | None,
                evicted: list[str], elsewhere: list[str]) -> bool:
        res = self.residency
        waited = 0.0
        freed = sum(self.profile.estimate(r.split("@")[0]) for r in elsewhere) + res.unconfirmed_gb
        if freed > 0:  # this switch's evictions, or earlier ones (evict_all) the driver may not show yet
            waited = res.wait_for_memory(self.profile.estimate(resource), free_at_start, freed)
        res.enter(resource)
        try:
            for handle in list(self._handles.get(resource, [])):
                if not handle.is_loaded():
                    handle.load()  # e.g. wake a sleeping vLLM
        except BaseException:
            res.refs[resource] -= 1
            self._evict(resource)
            if self.ledger is not None:
                with self.ledger.transaction() as state:
                    state.drop(self.ledger.pid, resource)
            raise
        seconds = round(self._clock() - start, 4)
        if evicted or elsewhere:
            event = SwitchEvent(resource, evicted, reason, seconds, round(waited, 4), elsewhere)
            self.switches.append(event)
            self.trace.event("scheduler.switch", profile=self.profile.name, **asdict(event))
        self.trace.event("scheduler.acquire", resource=resource, evicted=evicted, reason=reason, seconds=seconds)
        return True

    def _release(self, resource: str) -> None:
        with self._lock:
            self.residency.leave(resource)
            if self.residency.idle(resource) and self.ledger is not None and (self._deferred or self._ledger_changed()):
                self._honour_requests()

    def _evict(self, resource: str) -> None:
        for handle in self._handles.get(resource, []):
            if handle.is_loaded():
                handle.unload()
        self.residency.forget(resource)

    def evict_all(self, keep: Sequence[str] = ()) -> list[str]:
        """Evict every resident resource not in `keep` and not in use (OOM recovery)."""
        with self._lock:
            evicted = [r for r in self.residency.names() if r not in keep and self.residency.idle(r)]
            for r in evicted:
                self._evict(r)
            if self.ledger is not None:
                with self.ledger.transaction() as state:
                    for r in evicted:
                        state.drop(self.ledger.pid, r)
                    for e in state.held_by_others(self.ledger.pid):  # ask other runs too
                        if e.resource not in keep:
                            state.request(e.resource, e.pid, self.ledger.pid)
            self.trace.event("scheduler.evict_all", evicted=evicted, kept=list(keep))
            return evicted

    def handle_oom(self, resources: Sequence[str], exc: BaseException) -> None:
        """Called by the registry on out-of-memory before its one low-memory retry."""
        from tools.core.scheduler.handles import release_torch_memory

        res = self.residency
        self.trace.event("scheduler.oom", resources=list(resources), error=str(exc)[:300], free_gb=res.free_gb())
        free_before = res.free_gb()
        self.evict_all(keep=resources)
        release_torch_memory()
        with self._lock:
            if res.unconfirmed_gb > 0:  # let the retry see the memory the evictions gave back
                try:
                    res.wait_for_memory(None, free_before, res.unconfirmed_gb)
                except SchedulerError as wait_error:
                    self.trace.event("scheduler.oom_wait_timeout", error=wait_error.message)

    # -- cross-process ---------------------------------------------------------------------------
    def _ledger_changed(self) -> bool:
        return self.ledger is not None and self.ledger.stamp() != self._ledger_stamp

    def _honour_requests(self) -> None:
        """Evict idle resources other processes asked for (called on release and by the watcher)."""
        assert self.ledger is not None
        with self.ledger.transaction() as state:
            self._report_pruned()
            mine = {e.resource for e in state.entries if e.pid == self.ledger.pid}
            for r in self.residency.names():
                if r not in mine and self.residency.idle(r):
                    self.residency.last_use.pop(r)  # another process cleared our entry (e.g. a rebuilt ledger)
                    self._evict(r)
            self._deferred = False
            for req in [q for q in state.requests if q.owner_pid == self.ledger.pid]:
                if not self.residency.idle(req.resource):
                    self._deferred = True  # honoured when the current call releases it
                    continue
                if req.resource in self.residency:
                    self._evict(req.resource)
                    self.trace.event("scheduler.evicted_for_other_process", resource=req.resource, by_pid=req.by_pid)
                state.drop(self.ledger.pid, req.resource)
        self._ledger_stamp = self.ledger.stamp()

    def _report_pruned(self) -> None:
        if self.ledger is not None and self.ledger.pruned:
            for e in self.ledger.pruned:
                self.trace.event("scheduler.stale_cleared", pid=e.pid, resource=e.resource, since=e.since)
            self.ledger.pruned.clear()

    def _ensure_watcher(self) -> None:
        if self._watcher is None or not self._watcher.is_alive():
            self._watcher = threading.Thread(target=self._watch, name="scheduler-ledger-watcher", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while not self._closed.wait(self.poll_interval_s):
            try:
                with self._lock:
                    if self.residency.last_use and (self._deferred or self._ledger_changed()):
                        self._honour_requests()
            except Exception as exc:  # a watcher error must never kill the run
                self.trace.event("scheduler.watcher_error", error=repr(exc))

    def _describe_blockers(self, resource: str) -> str:
        if self.ledger is None:
            return "unknown"
        state: LedgerState = self.ledger.snapshot()
        return "; ".join(f"pid {e.pid} holds {e.resource} ({e.estimate_gb:g} GB)"
                         for e in state.held_by_others(self.ledger.pid)) or "none left"

    def close(self) -> None:
        """Evict everything, leave the ledger and stop the watcher (end of a run)."""
        self._closed.set()
        with self._lock:
            for r in self.residency.names():
                if self.residency.idle(r):
                    self._evict(r)
            if self.ledger is not None:
                with self.ledger.transaction() as state:
                    state.entries = [e for e in state.entries
                                     if e.pid != self.ledger.pid or e.resource in self.residency]

    # -- plan ordering ------------------------------------------------------------------------
    def order(self, steps: Sequence[StepLike]) -> list[str]:
        """Topological order with the fewest model switches (see ordering.py)."""
        from tools.core.scheduler.ordering import order_steps

        return order_steps(steps, self.conflicts, initial=self.resident())


class StepLike(Protocol):
    id: str
    depends_on: list[str]
    resources: list[str]


_OOM_MARKERS = ("out of memory", "cuda oom", "cudamalloc failed", "requires more system memory",
                "insufficient memory", "not enough memory", "cublas_status_alloc_failed")


def is_oom(exc: BaseException) -> bool:
    """True for torch's CUDA/MPS OOM and the out-of-memory answers of vLLM, Ollama and llama.cpp."""
    if type(exc).__name__ in {"OutOfMemoryError", "OutOfMemory"}:
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _OOM_MARKERS)
