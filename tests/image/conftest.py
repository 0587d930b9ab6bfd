"""Fixtures: one tiny SDXL + ControlNet + two LoRAs per session, and a fresh context per test."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.tiny_models import build_tiny_controlnet, build_tiny_lora, build_tiny_sdxl
from tools.core.context import make_context
from tools.core.settings.loader import settings_from_dict
from tools.core.workspace import Workspace


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and on a shared 2-core machine threads thrash (10×)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny sdxl ü")  # a space and unicode in every model path
    sdxl = build_tiny_sdxl(root / "sdxl")
    return {
        "sdxl": sdxl,
        "canny": build_tiny_controlnet(sdxl, root / "controlnet-canny"),
        "lora_a": build_tiny_lora(sdxl, root / "loras" / "style_a.safetensors", seed=1),
        "lora_b": build_tiny_lora(sdxl, root / "loras" / "style_b.safetensors", seed=2),
    }


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def image_settings(tiny_models, tmp_path):
    loras = write_yaml(tmp_path / "loras.yaml", {"loras": [
        {"name": "style_a", "path": str(tiny_models["lora_a"]), "kind": "style", "trigger_words": ["stylea"], "weight": 1.0},
        {"name": "pip", "path": str(tiny_models["lora_b"]), "kind": "character", "trigger_words": ["pipchar"], "weight": 0.8},
    ]})
    characters = write_yaml(tmp_path / "characters.yaml", {"characters": [
        {"name": "Pip", "trigger_words": ["pipchar"], "prompt": "a small sea creature kid", "lora": "pip",
         "negative_prompt": "blurry", "reference_images": [], "voice": {"voice": "en-us", "pitch": 3}},
    ]})
    return settings_from_dict({"image": {
        "sdxl_model_path": str(tiny_models["sdxl"]), "controlnet_paths": {"canny": str(tiny_models["canny"])},
        "loras_file": str(loras), "characters_file": str(characters),
        "steps": 2, "width": 64, "height": 64, "scheduler": "euler", "guidance_scale": 5.0, "device": "cpu",
    }})


@pytest.fixture
def ctx(image_settings, tmp_path):
    return make_context(image_settings, workspace=Workspace(tmp_path / "run"))
