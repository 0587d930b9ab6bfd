"""Shared fixtures: one synthetic film + references per session, settings pointed at tmp dirs."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.dataset.synth import make_film, make_refs
from tools.core.context import make_context
from tools.core.settings.loader import settings_from_dict


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dataset media")
    film_dir = root / "my films ünïcode"
    film_dir.mkdir()
    return {"film": make_film(film_dir / "short film.mp4"), "refs": make_refs(root / "refs")}


def make_settings(tmp_path: Path, **dataset):
    return settings_from_dict({
        "paths": {"datasets_dir": str(tmp_path / "datasets"), "runs_dir": str(tmp_path / "runs"),
                  "media_roots": [str(tmp_path)]},
        "image": {"loras_file": str(tmp_path / "loras.yaml")},
        "video": {"detector": "content"},
        "dataset": {"executor": "serial", "extract_mode": "scenes", **dataset},
    })


@pytest.fixture
def settings_for():
    return make_settings


@pytest.fixture
def ctx(tmp_path):
    return make_context(make_settings(tmp_path))
