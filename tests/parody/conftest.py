"""Parody fixtures: one short sample film per session (with a steady 55 Hz hum under its soundtrack, so
ducking can be measured in a band the voices do not use) and settings isolated under tmp paths."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import isolated_settings_dict

FILM_SECONDS = 14.0


@pytest.fixture(scope="session")
def parody_film(tmp_path_factory) -> Path:
    from tools.media.sample_film import make_sample_film

    folder = tmp_path_factory.mktemp("parody_film")
    plain = make_sample_film(folder / "plain.mp4", duration_s=FILM_SECONDS, width=320, height=180)
    film = folder / "tide keeper é.mp4"  # a space and a non-ASCII letter on purpose
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(plain), "-f", "lavfi", "-i",
                    f"sine=frequency=55:sample_rate=48000:duration={FILM_SECONDS}", "-filter_complex",
                    "[1:a]volume=0.5[h];[0:a][h]amix=inputs=2:normalize=0[a]", "-map", "0:v", "-map", "[a]",
                    "-c:v", "copy", "-c:a", "aac", "-b:a", "160k", str(film)], check=True)
    return film


@pytest.fixture(scope="session")
def long_film(tmp_path_factory) -> Path:
    """A 24 s sample film at 320x180: scenes of 5-6 s, long enough for a short parody to stay inside one."""
    from tools.media.sample_film import make_sample_film

    folder = tmp_path_factory.mktemp("long film")
    return make_sample_film(folder / "the tide keeper.mp4", duration_s=24.0, width=320, height=180)


def sintel_trailer() -> Path | None:
    """../shared/films/sintel_trailer.mp4 (a real film with dialogue), looked for above the project."""
    for base in Path(__file__).resolve().parents:
        path = base / "shared" / "films" / "sintel_trailer.mp4"
        if path.is_file():
            return path
    return None


def parody_settings_dict(root: Path, chroma: Path | None = None, **sections) -> dict:
    data = isolated_settings_dict(root)
    if chroma is not None:  # one knowledge base per session: ingesting the shipped files once is enough
        data["rag"] = {"persist_dir": str(chroma)}
    data["quality"] = {"min_height": 180}  # the test film is 320x180
    (root / "samples").mkdir(parents=True, exist_ok=True)
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return data


@pytest.fixture(scope="session")
def shared_chroma(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("parody_chroma")


@pytest.fixture
def parody_settings(tmp_path, shared_chroma):
    from tools.core.settings import settings_from_dict

    return lambda **sections: settings_from_dict(parody_settings_dict(tmp_path, shared_chroma, **sections))


@pytest.fixture(scope="session")
def good_run(parody_film, shared_chroma, tmp_path_factory):
    """One finished parody of the 14 s film (16 s asked for), shared by the end-to-end and timeline tests."""
    from agent import Agent
    from agent.llm import FakeChatModel
    from tests.parody.scripted import parody_handler
    from tools.core.settings import settings_from_dict

    root = tmp_path_factory.mktemp("parody_good")
    # The shipped knowledge is ingested: the sample film's characters (Pip, Captain Brine, Gull) are known.
    settings = settings_from_dict(parody_settings_dict(root, shared_chroma, rag={"auto_ingest": True}))
    return Agent(settings=settings, llm=FakeChatModel(handler=parody_handler(duration=16.0))).run(
        "make a funny 16 second parody of the ocean scene", film=parody_film)  # a stated length beats the scene's
