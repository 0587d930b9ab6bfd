"""The resource scheduler (DESIGN Contract 2): LLM XOR SDXL on one GPU.

`with scheduler.use("sdxl"):` makes a resource resident: it first evicts what the profile's exclusive
groups forbid beside it and what does not fit the VRAM budget (least recently used first), asks other
processes on this machine to do the same through the ledger, waits until the driver reports the freed
memory, wakes the resource's handles, and records the switch in the run trace. A resident resource
stays resident after the `with` block (reference counted), so repeated use costs nothing.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Protocol, runtime_checkable

from tools.core.scheduler.devices import MemoryProbe
from tools.core.scheduler.ledger import Ledger, LedgerState
from tools.core.scheduler.profiles import HardwareProfile
from tools.core.trace import NULL_TRACE, Trace
from tools.core.types import ToolError


@runtime_checkable
class ModelHandle(Protocol):
    """A model that can be made resident and evicted (in-process pipeline or a server)."""

    def load(self) -> None: ...
    def unload(self) -> None: ...
    def is_loaded(self) -> bool: ...


class SchedulerError(ToolError):
    """The rules cannot be met (nested exclusive use, memory never freed, another run holds the GPU)."""


@dataclass
class SwitchEvent:
    resource: str
    evicted: list[str]
    reason: str
    seconds: float
    waited_for_memory_s: float = 0.0
    evicted_elsewhere: list[str] = field(default_factory=list)  # "llm@pid" evicted by another process


def default_profile() -> HardwareProfile:
    return HardwareProfile(name="cpu-only", resources={"llm": {}, "sdxl": {}, "tts": {}},
                           exclusive_groups=[["llm", "sdxl"]])


Profile = HardwareProfile  # the name earlier code used


class ResourceScheduler:
    """Reference-counted residency under exclusive groups and a VRAM budget, optionally cross-process."""

    def __init__(self, profile: HardwareProfile | None = None, trace: Trace = NULL_TRACE, *,
                 probe: MemoryProbe | None = None, ledger: Ledger | None = None,
                 poll_interval_s: float = 0.25, free_timeout_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.profile = profile or default_profile()
        self.trace = trace
        self.probe = probe if self.profile.accounts_vram else None  # CPU-only: nothing to poll
        self.ledger = ledger
        self.poll_interval_s, self.free_timeout_s = poll_interval_s, free_timeout_s
        self._clock, self._sleep = clock, sleep
        self._lock = threading.RLock()
        self._refs: Counter[str] = Counter()
        self._resident: dict[str, float] = {}  # resource -> last use (LRU eviction order)
        self._handles: dict[str, list[ModelHandle]] = {}
        self._ledger_stamp: tuple[int, int] = (0, 0)
        self._deferred = False  # another process asked for a model that was in use: honour on release
        self._unconfirmed_gb = 0.0  # estimates of evicted models the driver may not report free yet
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

    def resident(self) -> list[str]:
        with self._lock:
            return sorted(self._resident)

    def in_use(self) -> dict[str, int]:
        with self._lock:
            return {r: n for r, n in self._refs.items() if n > 0}

    # -- rules ------------------------------------------------------------------------------
    def conflicts(self, resource: str) -> set[str]:
        out: set[str] = set()
        for group in self.profile.exclusive_groups:
            if resource in group:
                out.update(r for r in group if r != resource)
        return out

    def resident_gb(self) -> float:
        """Estimated VRAM held by this process's resident resources and every other process's."""
        own = sum(self.profile.estimate(r) for r in self._resident)
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
        with self._lock:
            if resource in self._resident and (self._refs[resource] > 0 or not self._ledger_changed()):
                self._refs[resource] += 1  # nested or repeated use of a resident model costs nothing
                self._resident[resource] = self._clock()
                return
        start = self._clock()
        free_at_start = self._free_gb()
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
        if resource in self._resident and self._refs[resource] == 0 and self._ledger_changed():
            self._honour_requests()  # another process may have asked for it, or the ledger was rebuilt
        if resource in self._resident:  # still resident: nothing to switch
            self._refs[resource] += 1
            return True
        blockers = sorted(self.conflicts(resource) & set(self._resident))
        busy = [r for r in blockers if self._refs[r] > 0]
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
            over = self._over_budget(resource, blockers, sum(e.estimate_gb for e in others))
            if conflicting or over > 0:
                victims = conflicting or self._lru_others(others, over)
                for e in victims:
                    state.request(e.resource, e.pid, self.ledger.pid)
                    asked.add(f"{e.resource}@{e.pid}")
                if not victims:
                    raise self._cannot_fit(resource, over)
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

    def _over_budget(self, resource: str, leaving: Sequence[str], others_gb: float) -> float:
        if not self.profile.accounts_vram:
            return 0.0
        own = sum(self.profile.estimate(r) for r in self._resident if r not in leaving)
        return own + others_gb + self.profile.estimate(resource) - self.profile.usable_gb

    def _evict_for(self, resource: str, blockers: list[str], others_gb: float) -> list[str]:
        """Evict the blockers, then idle residents (least recently used first) until the budget fits."""
        evicted = list(blockers)
        over = self._over_budget(resource, evicted, others_gb)
        for r in sorted(self._resident, key=self._resident.get):
            if over <= 1e-9:
                break
            if r not in evicted and self._refs[r] == 0 and self.profile.estimate(r) > 0:
                evicted.append(r)
                over -= self.profile.estimate(r)
        if over > 1e-9:
            raise self._cannot_fit(resource, over)
        for r in evicted:
            self._evict(r)
        return evicted

    def _unload_orphans(self, resource: str, evicted: list[str], held_elsewhere: set[str]) -> list[str]:
        """Conflicting servers this process never loaded (a vLLM awake since boot) hold memory too."""
        out = []
        for other in sorted(self.conflicts(resource) - set(evicted) - held_elsewhere - set(self._resident)):
            loaded = [h for h in self._handles.get(other, []) if h.is_loaded()]
            for handle in loaded:
                handle.unload()
            if loaded:
                out.append(other)
        return out

    def _cannot_fit(self, resource: str, over: float) -> SchedulerError:
        return SchedulerError(
            f"{resource!r} ({self.profile.estimate(resource):g} GB) does not fit the {self.profile.name} budget "
            f"({self.profile.usable_gb:g} GB usable) beside the models in use: {self.in_use()} ({over:.1f} GB over)",
            "release the other model first or use a profile with more memory")

    def _lru_others(self, others: list, over: float) -> list:
        victims = []
        for e in sorted(others, key=lambda e: e.since):
            if over <= 1e-9:
                break
            victims.append(e)
            over -= e.estimate_gb
        return victims

    def _finish(self, resource: str, reason: str, start: float, free_at_start: float | None,
                evicted: list[str], elsewhere: list[str]) -> bool:
        waited = 0.0
        freed = sum(self.profile.estimate(r.split("@")[0]) for r in elsewhere) + self._unconfirmed_gb
        if freed > 0:  # this switch's evictions, or earlier ones (evict_all) the driver may not show yet
            waited = self._wait_for_memory(self.profile.estimate(resource), free_at_start, freed)
        self._resident[resource] = self._clock()
        self._refs[resource] += 1
        try:
            for handle in list(self._handles.get(resource, [])):
                if not handle.is_loaded():
                    handle.load()  # e.g. wake a sleeping vLLM
        except BaseException:
            self._refs[resource] -= 1
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
            self._refs[resource] -= 1
            self._resident[resource] = self._clock()
            if self._refs[resource] == 0 and self.ledger is not None and (self._deferred or self._ledger_changed()):
                self._honour_requests()

    def _evict(self, resource: str) -> None:
        for handle in self._handles.get(resource, []):
            if handle.is_loaded():
                handle.unload()
        if resource in self._resident and self.probe is not None:
            self._unconfirmed_gb += self.profile.estimate(resource)
        self._resident.pop(resource, None)

    def evict_all(self, keep: Sequence[str] = ()) -> list[str]:
        """Evict every resident resource not in `keep` and not in use (OOM recovery)."""
        with self._lock:
            evicted = [r for r in sorted(self._resident) if r not in keep and self._refs[r] == 0]
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

        self.trace.event("scheduler.oom", resources=list(resources), error=str(exc)[:300],
                         free_gb=self._free_gb())
        free_before = self._free_gb()
        self.evict_all(keep=resources)
        release_torch_memory()
        with self._lock:
            if self._unconfirmed_gb > 0:  # let the retry see the memory the evictions gave back
                try:
                    self._wait_for_memory(None, free_before, self._unconfirmed_gb)
                except SchedulerError as wait_error:
                    self.trace.event("scheduler.oom_wait_timeout", error=wait_error.message)

    # -- memory polling -------------------------------------------------------------------------
    def _free_gb(self) -> float | None:
        if self.probe is None:
            return None
        try:
            return self.probe.free_gb()
        except Exception:
            return None

    def _wait_for_memory(self, need: float | None, free_before: float | None, freed_gb: float) -> float:
        """Poll until the driver reports freed memory back (frees lag behind unload calls).

        The target is what was freed (90 %: estimates are upper bounds), capped at what the next model
        needs; once reached, the evictions count as confirmed.
        """
        if self.probe is None or free_before is None:
            self._unconfirmed_gb = 0.0
            return 0.0
        target = free_before + 0.9 * freed_gb
        if need is not None:
            target = min(need, target)
        start = self._clock()
        free = self._free_gb() or 0.0
        while free < target:
            if self._clock() - start >= self.free_timeout_s:
                holders = ", ".join(f"pid {p.pid} {p.name} {p.used_gb:.1f} GB" for p in self._processes()) or "unknown"
                raise SchedulerError(
                    f"GPU memory did not come back after evicting models: {free:.1f} GB free, "
                    f"{target:.1f} GB expected after {self.free_timeout_s:g}s; holders: {holders}",
                    "another program holds the GPU, or a model kept references; see `animstudio doctor`")
            self._sleep(self.poll_interval_s)
            free = self._free_gb() or 0.0
        self._unconfirmed_gb = 0.0
        return self._clock() - start

    def _processes(self) -> list:
        try:
            return self.probe.processes() if self.probe else []
        except Exception:
            return []

    # -- cross-process ---------------------------------------------------------------------------
    def _ledger_changed(self) -> bool:
        return self.ledger is not None and self.ledger.stamp() != self._ledger_stamp

    def _honour_requests(self) -> None:
        """Evict idle resources other processes asked for (called on release and by the watcher)."""
        assert self.ledger is not None
        with self.ledger.transaction() as state:
            self._report_pruned()
            mine = {e.resource for e in state.entries if e.pid == self.ledger.pid}
            for r in list(self._resident):
                if r not in mine and self._refs[r] == 0:
                    self._resident.pop(r)  # another process cleared our entry (e.g. a rebuilt ledger)
                    self._evict(r)
            self._deferred = False
            for req in [q for q in state.requests if q.owner_pid == self.ledger.pid]:
                if self._refs[req.resource] > 0:
                    self._deferred = True  # honoured when the current call releases it
                    continue
                if req.resource in self._resident:
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
                    if self._resident and (self._deferred or self._ledger_changed()):
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
            for r in list(self._resident):
                if self._refs[r] == 0:
                    self._evict(r)
            if self.ledger is not None:
                with self.ledger.transaction() as state:
                    state.entries = [e for e in state.entries if e.pid != self.ledger.pid or e.resource in self._resident]

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
