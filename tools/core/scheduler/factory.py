"""Build the scheduler from settings, and describe it for `animstudio doctor`."""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from tools.core.scheduler.devices import DeviceReport, GpuDevice, discover, probe_for
from tools.core.scheduler.handles import handles_from_settings
from tools.core.scheduler.ledger import Ledger, LedgerEntry
from tools.core.scheduler.profiles import HardwareProfile, load_profile, pick_profile
from tools.core.scheduler.resource_scheduler import ResourceScheduler
from tools.core.trace import NULL_TRACE, Trace


@functools.lru_cache(maxsize=1)
def _discovered() -> DeviceReport:
    """Discovery once per process: a card's total memory does not change while we run."""
    return discover()


def _hardware_dir(settings) -> Path:
    from tools.core.settings.loader import resolve_path

    return resolve_path(settings.scheduler.hardware_dir)


def resolve_profile(settings) -> tuple[HardwareProfile, GpuDevice | None, str]:
    """(profile, scheduled device, why this profile) for these settings."""
    name = settings.scheduler.profile
    hardware_dir = _hardware_dir(settings)
    if name != "auto":
        profile = load_profile(name, hardware_dir)
        device = _device(settings) if profile.accounts_vram else None
        return profile, device, f"scheduler.profile = {name}"
    device = _device(settings)
    if device is None:
        return pick_profile(None, hardware_dir), None, "auto: no GPU detected"
    profile = pick_profile(device.total_gb, hardware_dir)
    return profile, device, f"auto: {device.name} with {device.total_gb:g} GB ({device.backend})"


def _device(settings) -> GpuDevice | None:
    gpus = _discovered().gpus
    index = settings.scheduler.gpu_index
    return next((g for g in gpus if g.index == index), gpus[0] if gpus else None)


def _ledger(settings, profile: HardwareProfile, device: GpuDevice | None) -> Ledger | None:
    from tools.core.settings.loader import resolve_path

    mode = settings.scheduler.cross_process
    if mode == "off" or (mode == "auto" and not profile.accounts_vram):
        return None
    name = f"gpu{device.index}" if device else "host"
    return Ledger(resolve_path(settings.scheduler.lock_dir), name, settings.scheduler.lock_timeout_s)


def create_scheduler(settings, trace: Trace = NULL_TRACE) -> ResourceScheduler:
    """The scheduler for these settings: profile by name or `auto`, probe, ledger, configured handles."""
    profile, device, _why = resolve_profile(settings)
    cfg = settings.scheduler
    scheduler = ResourceScheduler(
        profile, trace,
        probe=probe_for(device) if profile.accounts_vram else None,
        ledger=_ledger(settings, profile, device),
        poll_interval_s=cfg.free_poll_interval_s, free_timeout_s=cfg.free_timeout_s)
    for resource, handles in handles_from_settings(cfg.handles).items():
        for handle in handles:
            scheduler.register(resource, handle)
    return scheduler


class SchedulerReport(BaseModel):
    """What `animstudio doctor` prints about the GPU and the scheduler."""

    profile: str
    chosen_because: str
    vram_budget_gb: float
    headroom_gb: float
    usable_gb: float
    estimates_gb: dict[str, float]
    exclusive_groups: list[list[str]]
    devices: DeviceReport
    cross_process: bool
    ledger_path: str | None = None
    holders: list[LedgerEntry] = Field(default_factory=list)  # who holds what, across processes
    handles: dict[str, list[str]] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)


def describe(settings) -> SchedulerReport:
    problems: list[str] = []
    try:
        profile, device, why = resolve_profile(settings)
    except Exception as exc:
        return SchedulerReport(profile=settings.scheduler.profile, chosen_because="error", vram_budget_gb=0,
                               headroom_gb=0, usable_gb=0, estimates_gb={}, exclusive_groups=[],
                               devices=_discovered(), cross_process=False, problems=[str(exc)])
    ledger = _ledger(settings, profile, device)
    holders: list[LedgerEntry] = []
    if ledger is not None:
        try:
            holders = ledger.snapshot().entries
        except Exception as exc:
            problems.append(f"ledger unreadable: {exc}")
    handles: dict[str, list[str]] = {}
    try:
        handles = {r: [repr(h) for h in hs] for r, hs in handles_from_settings(settings.scheduler.handles).items()}
    except Exception as exc:
        problems.append(str(exc))
    if device and profile.vram_budget_gb and device.total_gb + 0.2 < profile.vram_budget_gb:
        problems.append(f"profile {profile.name} budgets {profile.vram_budget_gb} GB but {device.name} has "
                        f"{device.total_gb} GB: choose a smaller profile")
    return SchedulerReport(
        profile=profile.name, chosen_because=why, vram_budget_gb=profile.vram_budget_gb or 0.0,
        headroom_gb=profile.headroom_gb, usable_gb=profile.usable_gb,
        estimates_gb={r: c.vram_gb for r, c in profile.resources.items()},
        exclusive_groups=profile.exclusive_groups, devices=_discovered(), cross_process=ledger is not None,
        ledger_path=str(ledger.path) if ledger else None, holders=holders, handles=handles, problems=problems)


def as_dict(report: SchedulerReport) -> dict[str, Any]:
    return report.model_dump(mode="json")
