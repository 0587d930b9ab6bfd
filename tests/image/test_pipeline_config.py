"""Device/dtype planning (simulated devices), scheduler names, single-file errors, adapter names."""
from __future__ import annotations

import pytest

from tools.core.settings.loader import settings_from_dict
from tools.core.types import ToolError
from tools.image.adapters import adapter_name, parse_lora_spec
from tools.image.pipeline import SCHEDULERS, choose_device, image_generation_available, load_sdxl


@pytest.mark.parametrize("setting, cuda, mps, device, dtype", [
    ("auto", True, False, "cuda", "float16"),  # fp16 + SDPA on CUDA
    ("auto", False, True, "mps", "float32"),
    ("auto", False, False, "cpu", "float32"),
    ("cpu", True, False, "cpu", "float32"),
])
def test_device_plan(setting, cuda, mps, device, dtype):
    plan = choose_device(setting, cuda_available=cuda, mps_available=mps)
    assert (plan.device, plan.dtype_name) == (device, dtype)


def test_device_requested_but_missing():
    with pytest.raises(ToolError, match="image.device is 'cuda'"):
        choose_device("cuda", cuda_available=False, mps_available=False)


def test_every_scheduler_name_builds_from_an_sdxl_config():
    import diffusers
    from diffusers import EulerDiscreteScheduler

    base = EulerDiscreteScheduler(beta_schedule="scaled_linear", timestep_spacing="leading").config
    for name, (cls_name, extra) in SCHEDULERS.items():
        sched = getattr(diffusers, cls_name).from_config(base, **extra)
        sched.set_timesteps(4)
        assert len(sched.timesteps) >= 4, name


def test_single_file_checkpoint_errors_name_the_settings(tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"not a checkpoint")
    settings = settings_from_dict({"image": {"sdxl_model_path": str(bad), "device": "cpu"}})
    assert image_generation_available(settings)[0]  # cheap check: the file is there
    with pytest.raises(ToolError) as info:
        load_sdxl(settings, choose_device("cpu"))
    assert "image.single_file_config" in info.value.hint
    (tmp_path / "empty.safetensors").write_bytes(b"")
    ok, why = image_generation_available(settings_from_dict({"image": {"sdxl_model_path": str(tmp_path / "empty.safetensors")}}))
    assert not ok and "empty" in why


def test_lora_specs_and_adapter_names():
    assert parse_lora_spec("luca:0.7") == ("luca", 0.7)
    assert parse_lora_spec(" pixar style ") == ("pixar style", None)
    assert parse_lora_spec("c:/loras/x") == ("c:/loras/x", None)
    assert adapter_name("pixar.style v2") == "lora_pixar_style_v2"
