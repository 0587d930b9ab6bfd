"""A run world for the question tests: isolated settings, the scripted model that fills nothing (so what a
request leaves out is asked for), and a short sample film."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import isolated_settings_dict

FAKE = Path(__file__).with_name("fake_asking.yaml")


def asking_world(root: Path, film_name: str) -> tuple[dict, Path]:
    """(settings data, film) under `root`."""
    from tools.media.sample_film import make_sample_film

    data = isolated_settings_dict(root)
    data["llm"] = {"backend": "fake", "fake": {"script": str(FAKE)}}
    (root / "samples").mkdir(exist_ok=True)
    film = make_sample_film(root / "samples" / film_name, duration_s=8.0, width=160, height=90)
    return data, film
