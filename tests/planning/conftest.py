"""Fixtures for routing and planning: the shipped workflows' router, and a world with a reference
picture, a refs/ folder and an existing dataset, isolated under a tmp folder."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import isolated_settings_dict
from tests.planning.cases import make_world


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> dict[str, Path]:
    return make_world(tmp_path_factory.mktemp("planning_world"))


@pytest.fixture(scope="session")
def planning_settings_dict(world) -> dict:
    root = world["datasets"].parent
    data = isolated_settings_dict(root)
    data["paths"]["datasets_dir"] = str(world["datasets"])
    (root / "samples").mkdir(exist_ok=True)
    return data


@pytest.fixture(scope="session")
def router():
    from agent.planning.routing.router import Router
    from tools.core.embeddings import get_embedder
    from tools.core.registry import all_tools
    from tools.core.settings import settings_from_dict
    from workflows import all_workflows

    return Router(get_embedder(settings_from_dict({})), dict(all_workflows()), all_tools())
