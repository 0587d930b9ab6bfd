"""Hardware profiles (configs/hardware/*.yaml): VRAM budget, headroom, resource estimates, rules.

A profile is data, validated at load time so a typo or an impossible estimate fails with a message
naming the file instead of surfacing later as an out-of-memory error.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tools.core.types import ToolError


class ResourceClass(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vram_gb: float = Field(0.0, ge=0.0, description="peak VRAM while resident and working")
    notes: str = ""


class ProfileMatch(BaseModel):
    """`auto` picks the named profile whose range holds the detected GPU's total memory."""

    model_config = ConfigDict(extra="forbid")
    min_total_gb: float = 0.0
    max_total_gb: float = 1e9


class HardwareProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    # null: use the detected GPU's total memory (the `auto` template profile).
    vram_budget_gb: float | None = Field(0.0, ge=0.0)
    headroom_gb: float = Field(0.0, ge=0.0)
    resources: dict[str, ResourceClass] = Field(default_factory=dict)
    exclusive_groups: list[list[str]] = Field(default_factory=list)
    match: ProfileMatch | None = None

    @model_validator(mode="after")
    def _check(self) -> HardwareProfile:
        for group in self.exclusive_groups:
            unknown = [r for r in group if r not in self.resources]
            if unknown:
                raise ValueError(f"exclusive group {group} names unknown resources {unknown}")
            if len(group) < 2:
                raise ValueError(f"exclusive group {group} needs at least two resources")
        if self.vram_budget_gb:
            usable = self.usable_gb
            if usable <= 0:
                raise ValueError("headroom_gb must be below vram_budget_gb")
            too_big = {r: c.vram_gb for r, c in self.resources.items() if c.vram_gb > usable}
            if too_big:
                raise ValueError(f"resources {too_big} exceed the usable budget {usable:g} GB "
                                 "(vram_budget_gb - headroom_gb); they could never be made resident")
        return self

    @property
    def usable_gb(self) -> float:
        return max(0.0, (self.vram_budget_gb or 0.0) - self.headroom_gb)

    @property
    def accounts_vram(self) -> bool:
        """False on CPU-only profiles: no VRAM accounting, no memory polling."""
        return bool(self.vram_budget_gb)

    def estimate(self, resource: str) -> float:
        cls = self.resources.get(resource)
        return cls.vram_gb if cls else 0.0

    def with_budget(self, total_gb: float) -> HardwareProfile:
        """The `auto` template bound to a detected GPU (estimates clipped to what can ever fit)."""
        usable = max(0.1, total_gb - self.headroom_gb)
        resources = {r: c.model_copy(update={"vram_gb": min(c.vram_gb, usable)}) for r, c in self.resources.items()}
        data = self.model_dump()
        data.update(vram_budget_gb=round(total_gb, 2), resources={r: c.model_dump() for r, c in resources.items()})
        return HardwareProfile.model_validate(data)


def available_profiles(hardware_dir: Path) -> list[str]:
    return sorted(p.stem for p in Path(hardware_dir).glob("*.yaml"))


def load_profile(name: str, hardware_dir: Path) -> HardwareProfile:
    path = Path(hardware_dir) / f"{name}.yaml"
    if not path.is_file():
        names = ", ".join(available_profiles(hardware_dir)) or "(none)"
        raise ToolError(f"Hardware profile {name!r} not found in {hardware_dir}",
                        f"set scheduler.profile to one of: {names}, or auto")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        data.setdefault("name", name)
        return HardwareProfile.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise ToolError(f"Hardware profile {path} is invalid: {exc}",
                        "fix the file (see docs/hardware.md for the fields)") from exc


def pick_profile(total_gb: float | None, hardware_dir: Path) -> HardwareProfile:
    """The profile for a GPU with `total_gb` (None: no GPU → cpu-only).

    Named profiles with a `match` range win (the tightest range); otherwise the `auto` template is
    bound to the detected memory so unusual cards (8 GB, 12 GB, 48 GB) still get a correct budget.
    """
    if not total_gb:
        return load_profile("cpu-only", hardware_dir)
    candidates = []
    for name in available_profiles(hardware_dir):
        if name == "auto":
            continue
        profile = load_profile(name, hardware_dir)
        m = profile.match
        if m and m.min_total_gb <= total_gb <= m.max_total_gb:
            candidates.append((m.max_total_gb - m.min_total_gb, name, profile))
    if candidates:
        return min(candidates)[2]
    return load_profile("auto", hardware_dir).with_budget(total_gb)
