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


@pytest.fixture(scope="session")
def film_library(tmp_path_factory) -> dict[str, Path]:
    """Three short distinct films and a broken one in a folder, plus the references."""
    from tests.dataset.synth import make_library

    root = tmp_path_factory.mktemp("film library")
    folder = root / "my library"
    make_library(folder, 3)
    (folder / "broken copy.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a film")
    return {"folder": folder, "refs": make_refs(root / "refs")}


@pytest.fixture(scope="session")
def ray_cluster():
    """One Ray instance for every test that needs it: a local head node with 2 CPUs.

    A `ray.cluster_utils.Cluster`, so the multi-node test can add a second node to it.
    """
    import logging

    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "object_store_memory": 100 << 20})
    ray.init(address=cluster.address, log_to_driver=False, logging_level=logging.WARNING)
    yield cluster
    ray.shutdown()
    cluster.shutdown()
