"""A simulated GPU (budget, lagging frees, OOM like torch's) and model handles that live on it."""
from __future__ import annotations

from tools.core.scheduler.devices import ProcessUsage
from tools.core.scheduler.profiles import HardwareProfile


class OutOfMemoryError(RuntimeError):
    """Named like torch.cuda.OutOfMemoryError, which is what the scheduler recognises."""


class FakeGPU:
    """Implements the MemoryProbe protocol. Frees land `lag_polls` reads after the unload, like a
    driver that reports memory back late; allocations beyond the card raise OutOfMemoryError."""

    def __init__(self, total_gb: float = 15.9, lag_polls: int = 2):
        self.total_gb = total_gb
        self.lag_polls = lag_polls
        self.used: dict[str, float] = {}
        self._pending: list[list] = []  # [polls left, owner]
        self.polls = 0
        self.peak_gb = 0.0

    def allocate(self, owner: str, gb: float) -> None:
        self._settle_due()
        in_use = sum(self.used.values())
        if in_use + gb > self.total_gb + 1e-9:
            raise OutOfMemoryError(f"CUDA out of memory. Tried to allocate {gb:.2f} GiB "
                                   f"({in_use:.2f} GiB in use of {self.total_gb} GiB)")
        self.used[owner] = self.used.get(owner, 0.0) + gb
        self.peak_gb = max(self.peak_gb, sum(self.used.values()))

    def free(self, owner: str, immediately: bool = False) -> None:
        if immediately or self.lag_polls == 0:
            self.used.pop(owner, None)
        else:
            self._pending.append([self.lag_polls, owner])

    def _settle_due(self) -> None:
        for item in list(self._pending):
            if item[0] <= 0:
                self.used.pop(item[1], None)
                self._pending.remove(item)

    def free_gb(self) -> float:
        self.polls += 1
        for item in self._pending:
            item[0] -= 1
        self._settle_due()
        return self.total_gb - sum(self.used.values())

    def processes(self) -> list[ProcessUsage]:
        return [ProcessUsage(pid=1000 + i, name=o, used_gb=g) for i, (o, g) in enumerate(self.used.items())]


class FakeModel:
    """A ModelHandle whose load allocates on the fake GPU and whose unload frees (with lag)."""

    def __init__(self, gpu: FakeGPU, owner: str, gb: float):
        self.gpu, self.owner, self.gb = gpu, owner, gb
        self.loaded = False
        self.loads = self.unloads = 0

    def load(self) -> None:
        self.gpu.allocate(self.owner, self.gb)
        self.loaded = True
        self.loads += 1

    def unload(self) -> None:
        self.gpu.free(self.owner)
        self.loaded = False
        self.unloads += 1

    def is_loaded(self) -> bool:
        return self.loaded


def profile_16gb(**overrides) -> HardwareProfile:
    data = dict(name="sim-16gb", vram_budget_gb=15.9, headroom_gb=0.9,
                resources={"llm": {"vram_gb": 11.0}, "sdxl": {"vram_gb": 11.5}, "tts": {"vram_gb": 3.5}},
                exclusive_groups=[["llm", "sdxl"]])
    data.update(overrides)
    return HardwareProfile.model_validate(data)


def no_sleep(_seconds: float) -> None:
    return None


class FakeClock:
    """Time that only moves when the scheduler sleeps: timeouts are tested without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
