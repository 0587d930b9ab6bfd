"""Shared fixtures: tiny synthetic films (160x90, 24 fps) and a tool context with a private cache."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.synthetic_media import FOREST, NIGHT, OCEAN, SUNSET, make_video
from tools.core.context import make_context
from tools.core.settings import settings_from_dict
from tools.core.workspace import Workspace

if shutil.which("ffmpeg") is None:
    pytest.skip("ffmpeg is not installed", allow_module_level=True)

FPS = 24
SIZE = (160, 90)
SCENES = [OCEAN, FOREST, NIGHT, SUNSET]


@pytest.fixture(scope="session")
def film_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("films")


@pytest.fixture(scope="session")
def film(film_dir: Path) -> Path:
    """Ocean, forest, night town, sunset: 1 s each, cuts at frames 24/48/72, 440 Hz tone."""
    return make_video(film_dir / "ocean forest night sunset.mp4", SCENES, size=SIZE, fps=FPS)


@pytest.fixture()
def ctx(tmp_path: Path, film_dir: Path):
    settings = settings_from_dict({"paths": {"cache_dir": str(tmp_path / "cache"), "media_roots": [str(film_dir)]}})
    return make_context(settings, Workspace(tmp_path / "run", media_roots=[film_dir]))


def frame_at(path: Path, t: float, size=SIZE) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(np.float32)


def audio_of(path: Path, rate: int = 16000) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate),
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def band_db(x: np.ndarray, rate: int, hz: float, a: float, b: float) -> float:
    """Level (dB) of the `hz` component in [a, b) seconds (narrow FFT band)."""
    seg = x[int(a * rate):int(b * rate)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freqs = np.fft.rfftfreq(len(seg), 1 / rate)
    band = spec[(freqs > hz - 15) & (freqs < hz + 15)]
    return float(20 * np.log10(band.max() / len(seg) + 1e-9))
