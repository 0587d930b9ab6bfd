"""Shipped hardware profiles load, and `auto` picks by detected memory."""
from __future__ import annotations

import pytest

from tools.core.scheduler.factory import describe
from tools.core.scheduler.profiles import available_profiles, load_profile, pick_profile
from tools.core.settings import settings_from_dict
from tools.core.settings.loader import PROJECT_ROOT
from tools.core.types import ToolError

HW = PROJECT_ROOT / "configs" / "hardware"


def test_every_shipped_profile_is_valid():
    names = available_profiles(HW)
    assert {"rtx5080-16gb", "24gb", "80gb", "cpu-only", "auto"} <= set(names)
    for name in names:
        profile = load_profile(name, HW)
        assert {"llm", "sdxl", "tts"} <= set(profile.resources)
    p16 = load_profile("rtx5080-16gb", HW)
    assert p16.exclusive_groups == [["llm", "sdxl"]]
    assert p16.estimate("llm") + p16.estimate("sdxl") > p16.usable_gb  # that is why the rule exists
    for big in ("llm", "sdxl"):  # tts beside either
        assert p16.estimate(big) + p16.estimate("tts") <= p16.usable_gb


@pytest.mark.parametrize("total,expected", [(None, "cpu-only"), (15.92, "rtx5080-16gb"), (23.6, "24gb"),
                                            (79.2, "80gb"), (11.6, "auto")])
def test_auto_picks_by_detected_memory(total, expected):
    profile = pick_profile(total, HW)
    assert profile.name == expected
    if expected == "auto":  # bound to the card: every estimate fits what is usable
        assert profile.vram_budget_gb == 11.6
        assert max(c.vram_gb for c in profile.resources.values()) <= profile.usable_gb


def test_invalid_profiles_fail_clearly(tmp_path):
    (tmp_path / "bad.yaml").write_text("vram_budget_gb: 8\nheadroom_gb: 1\nresources: {sdxl: {vram_gb: 11.5}}\n")
    with pytest.raises(ToolError, match="exceed the usable budget"):
        load_profile("bad", tmp_path)
    with pytest.raises(ToolError, match="not found") as info:
        load_profile("rtx9090", HW)
    assert "rtx5080-16gb" in info.value.hint


def test_describe_for_doctor():
    report = describe(settings_from_dict({"scheduler": {"profile": "rtx5080-16gb", "cross_process": "off"}}))
    assert report.profile == "rtx5080-16gb" and report.usable_gb == pytest.approx(15.0)
    assert report.estimates_gb["sdxl"] == 11.5 and report.devices.host is not None
    assert report.chosen_because == "scheduler.profile = rtx5080-16gb"
