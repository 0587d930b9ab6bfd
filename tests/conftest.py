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
