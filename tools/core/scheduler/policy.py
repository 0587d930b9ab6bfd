"""The scheduler's policy: which resources may be resident together and what to evict for a new one.

The rules, as pure functions of a hardware profile and the residents: a profile's exclusive groups
forbid their members side by side (LLM XOR SDXL on one 16 GB GPU); the VRAM budget (usable =
budget − headroom) bounds the sum of resident estimates; to make room, the blockers go first, then
idle residents, least recently used first. Residency (who is resident, what memory came back)
is kept in `residency.py`; `resource_scheduler.py` applies these rules to it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from tools.core.scheduler.ledger import LedgerEntry
from tools.core.scheduler.profiles import HardwareProfile
from tools.core.types import ToolError

EPS_GB = 1e-9


class SchedulerError(ToolError):
    """The rules cannot be met (nested exclusive use, memory never freed, another run holds the GPU)."""


def default_profile() -> HardwareProfile:
    """No GPU profile given: the LLM and SDXL still never share one process's memory."""
    return HardwareProfile(name="cpu-only", resources={"llm": {}, "sdxl": {}, "tts": {}},
                           exclusive_groups=[["llm", "sdxl"]])


def conflicts(profile: HardwareProfile, resource: str) -> set[str]:
    """The exclusive-group rule: resources that may not be resident beside `resource`."""
    out: set[str] = set()
    for group in profile.exclusive_groups:
        if resource in group:
            out.update(r for r in group if r != resource)
    return out


def over_budget(profile: HardwareProfile, resident: Iterable[str], leaving: Sequence[str], resource: str,
                others_gb: float) -> float:
    """GB by which making `resource` resident would exceed the usable budget (≤ 0: it fits)."""
    if not profile.accounts_vram:
        return 0.0
    own = sum(profile.estimate(r) for r in resident if r not in leaving)
    return own + others_gb + profile.estimate(resource) - profile.usable_gb


def evictions(profile: HardwareProfile, resource: str, blockers: list[str], last_use: Mapping[str, float],
              refs: Mapping[str, int], others_gb: float) -> list[str]:
    """What to evict for `resource`: the blockers, then idle residents (least recently used first)
    until the budget fits. Raises SchedulerError when even that is not enough."""
    evicted = list(blockers)
    over = over_budget(profile, last_use, evicted, resource, others_gb)
    for r in sorted(last_use, key=last_use.get):
        if over <= EPS_GB:
            break
        if r not in evicted and refs.get(r, 0) == 0 and profile.estimate(r) > 0:
            evicted.append(r)
            over -= profile.estimate(r)
    if over > EPS_GB:
        raise cannot_fit(profile, resource, over, {r: n for r, n in refs.items() if n > 0})
    return evicted


def victims_elsewhere(others: list[LedgerEntry], over: float) -> list[LedgerEntry]:
    """Other processes' residents to ask for eviction when the budget does not fit: oldest first."""
    victims = []
    for e in sorted(others, key=lambda e: e.since):
        if over <= EPS_GB:
            break
        victims.append(e)
        over -= e.estimate_gb
    return victims


def cannot_fit(profile: HardwareProfile, resource: str, over: float, in_use: Mapping[str, int]) -> SchedulerError:
    return SchedulerError(
        f"{resource!r} ({profile.estimate(resource):g} GB) does not fit the {profile.name} budget "
        f"({profile.usable_gb:g} GB usable) beside the models in use: {dict(in_use)} ({over:.1f} GB over)",
        "release the other model first or use a profile with more memory")
