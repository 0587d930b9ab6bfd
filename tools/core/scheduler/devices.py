"""Device discovery: NVML first (sees every process, needs no CUDA context), torch as a second
opinion when it is already imported, Apple MPS, psutil for host RAM.

`MemoryProbe` is what the scheduler polls after an unload; a CPU-only machine gets no probe at all,
so it pays nothing.
"""
from __future__ import annotations

import sys
from typing import Literal, Protocol

from pydantic import BaseModel, Field

GIB = 1024**3


class ProcessUsage(BaseModel):
    pid: int
    name: str = ""
    used_gb: float


class GpuDevice(BaseModel):
    index: int
    name: str
    backend: Literal["nvml", "torch", "mps"]
    total_gb: float
    free_gb: float | None = None
    processes: list[ProcessUsage] = Field(default_factory=list)


class HostMemory(BaseModel):
    total_gb: float
    available_gb: float


class DeviceReport(BaseModel):
    gpus: list[GpuDevice] = Field(default_factory=list)
    host: HostMemory | None = None
    torch_view: dict[str, float] | None = None  # torch's second opinion on GPU 0, when imported
    notes: list[str] = Field(default_factory=list)

    @property
    def primary(self) -> GpuDevice | None:
        return self.gpus[0] if self.gpus else None


class MemoryProbe(Protocol):
    """Free memory of the scheduled device, in GiB, as the driver reports it now."""

    def free_gb(self) -> float | None: ...
    def processes(self) -> list[ProcessUsage]: ...


class NvmlProbe:
    def __init__(self, index: int = 0):
        import pynvml  # from nvidia-ml-py

        self._nvml = pynvml
        pynvml.nvmlInit()
        self._handle = pynvml.nvmlDeviceGetHandleByIndex(index)

    def free_gb(self) -> float | None:
        return self._nvml.nvmlDeviceGetMemoryInfo(self._handle).free / GIB

    def processes(self) -> list[ProcessUsage]:
        out: list[ProcessUsage] = []
        for getter in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
            try:
                procs = getattr(self._nvml, getter)(self._handle)
            except Exception:  # not supported on this driver / platform
                continue
            for p in procs:
                used = p.usedGpuMemory or 0  # None where the driver hides it (WDDM, containers)
                out.append(ProcessUsage(pid=p.pid, name=_process_name(p.pid), used_gb=round(used / GIB, 3)))
        return out


class TorchCudaProbe:
    def __init__(self, index: int = 0):
        import torch

        self._torch, self._index = torch, index

    def free_gb(self) -> float | None:
        free, _total = self._torch.cuda.mem_get_info(self._index)
        return free / GIB

    def processes(self) -> list[ProcessUsage]:
        return []


def _process_name(pid: int) -> str:
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:
        return ""


def _nvml_devices(notes: list[str]) -> list[GpuDevice]:
    try:
        import pynvml
    except ImportError:
        notes.append("nvidia-ml-py is not installed: NVML discovery skipped")
        return []
    try:
        pynvml.nvmlInit()
    except Exception as exc:  # no driver: the normal case on CPU machines
        notes.append(f"NVML unavailable ({type(exc).__name__}): no NVIDIA driver")
        return []
    gpus = []
    for i in range(pynvml.nvmlDeviceGetCount()):
        handle = pynvml.nvmlDeviceGetHandleByIndex(i)
        mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
        name = pynvml.nvmlDeviceGetName(handle)
        name = name.decode() if isinstance(name, bytes) else name
        gpus.append(GpuDevice(index=i, name=name, backend="nvml", total_gb=round(mem.total / GIB, 2),
                              free_gb=round(mem.free / GIB, 2), processes=NvmlProbe(i).processes()))
    return gpus


def _torch_view(notes: list[str]) -> tuple[list[GpuDevice], dict[str, float] | None]:
    """Only when torch is already imported: importing it here would cost seconds on every run."""
    torch = sys.modules.get("torch")
    if torch is None:
        return [], None
    try:
        if torch.cuda.is_available():
            free, total = torch.cuda.mem_get_info(0)
            view = {"free_gb": round(free / GIB, 2), "total_gb": round(total / GIB, 2),
                    "reserved_by_this_process_gb": round(torch.cuda.memory_reserved(0) / GIB, 2)}
            gpu = GpuDevice(index=0, name=torch.cuda.get_device_name(0), backend="torch",
                            total_gb=view["total_gb"], free_gb=view["free_gb"])
            return [gpu], view
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            # Unified memory: the recommended working set is the budget Metal will grant.
            total = torch.mps.recommended_max_memory() / GIB if hasattr(torch.mps, "recommended_max_memory") else 0.0
            notes.append("Apple MPS: unified memory shared with the CPU")
            return [GpuDevice(index=0, name="Apple MPS", backend="mps", total_gb=round(total, 2))], None
    except Exception as exc:
        notes.append(f"torch device query failed: {exc}")
    return [], None


def _host_memory() -> HostMemory | None:
    try:
        import psutil

        vm = psutil.virtual_memory()
        return HostMemory(total_gb=round(vm.total / GIB, 2), available_gb=round(vm.available / GIB, 2))
    except Exception:
        return None


def discover() -> DeviceReport:
    notes: list[str] = []
    gpus = _nvml_devices(notes)
    torch_gpus, view = _torch_view(notes)
    if not gpus:
        gpus = torch_gpus
    elif view and abs(view["total_gb"] - gpus[0].total_gb) > 0.5:
        notes.append(f"NVML and torch disagree on GPU 0 total ({gpus[0].total_gb} vs {view['total_gb']} GB): "
                     "check CUDA_VISIBLE_DEVICES")
    if not gpus:
        notes.append("no GPU found: CPU-only")
    return DeviceReport(gpus=gpus, host=_host_memory(), torch_view=view, notes=notes)


def probe_for(device: GpuDevice | None) -> MemoryProbe | None:
    """The cheapest live probe for this device; None on CPU/MPS (nothing to poll)."""
    if device is None:
        return None
    try:
        if device.backend == "nvml":
            return NvmlProbe(device.index)
        if device.backend == "torch":
            return TorchCudaProbe(device.index)
    except Exception:
        return None
    return None
