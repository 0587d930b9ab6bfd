"""The sample film: real file with both streams, the right length, cuts a detector finds, a blue ocean."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings import settings_from_dict
from tools.core.types import ToolError
from tools.core.workspace import Workspace
from tools.media.probe import media_info
from tools.media.sample_film import load_truth, make_sample_film, scene_frames

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


@pytest.fixture(scope="module")
def film(tmp_path_factory) -> Path:
    return make_sample_film(tmp_path_factory.mktemp("film") / "tide keeper é.mp4", duration_s=12, width=320,
                            height=180, fps=24)


def _frame_at(path: Path, t: float) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "bgr24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(180, 320, 3)


def test_film_has_streams_duration_and_truth(film: Path) -> None:
    info = media_info(film)
    assert info.has_video and info.has_audio
    assert (info.width, info.height) == (320, 180)
    assert abs(info.duration - 12.0) < 0.15
    truth = load_truth(film)
    assert [s.name for s in truth.scenes] == ["title", "ocean", "forest", "night_harbour", "sunset_beach"]
    assert truth.scenes[0].start == 0 and abs(truth.scenes[-1].end - 12.0) < 1e-6
    assert all(a.end == b.start for a, b in zip(truth.scenes, truth.scenes[1:]))
    assert "Pip" in truth.scenes[1].characters and "Captain Brine" in truth.scenes[3].characters


def test_scene_detection_finds_every_cut(film: Path) -> None:
    from scenedetect import ContentDetector, detect

    scenes = detect(str(film), ContentDetector(threshold=27.0, min_scene_len=12))
    truth = load_truth(film)
    assert len(scenes) == len(truth.scenes)
    found = [s[0].get_seconds() for s in scenes[1:]]
    expected = [s.start for s in truth.scenes[1:]]
    assert np.allclose(found, expected, atol=1.5 / 24)


def test_ocean_scene_is_mostly_blue_cyan_water(film: Path) -> None:
    ocean = load_truth(film).scenes[1]
    hsv = cv2.cvtColor(_frame_at(film, (ocean.start + ocean.end) / 2), cv2.COLOR_BGR2HSV)
    blue = (hsv[..., 0] >= 80) & (hsv[..., 0] <= 125) & (hsv[..., 1] >= 60)
    assert blue.mean() > 0.6  # sea + sky; the sand strip and Pip are the rest
    forest = load_truth(film).scenes[2]
    hsv_f = cv2.cvtColor(_frame_at(film, (forest.start + forest.end) / 2), cv2.COLOR_BGR2HSV)
    assert ((hsv_f[..., 0] >= 80) & (hsv_f[..., 0] <= 125) & (hsv_f[..., 1] >= 60)).mean() < 0.1


def test_audio_is_audible_and_changes_per_scene(film: Path) -> None:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-ac", "1", "-ar", "8000", "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout
    pcm = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    assert np.sqrt(np.mean(pcm**2)) > 0.02
    assert np.abs(pcm).max() < 0.99  # normalised below full scale: no clipping


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    a = make_sample_film(tmp_path / "a.mp4", duration_s=5, width=160, height=90, fps=12)
    b = make_sample_film(tmp_path / "b.mp4", duration_s=5, width=160, height=90, fps=12)
    assert _md5_frames(a) == _md5_frames(b)


def _md5_frames(path: Path) -> str:
    return subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v", "-f", "md5", "-"],
                          capture_output=True, check=True, text=True).stdout


def test_bad_arguments_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="duration"):
        make_sample_film(tmp_path / "x.mp4", duration_s=1)
    with pytest.raises(ToolError, match="even"):
        make_sample_film(tmp_path / "x.mp4", width=641)
    assert scene_frames(40, 24)[-1][2] == 960


def test_tool_writes_into_samples_dir_and_reuses(tmp_path: Path) -> None:
    settings = settings_from_dict({"paths": {"samples_dir": str(tmp_path / "samples"),
                                             "media_roots": [str(tmp_path / "samples")]}})
    ctx = make_context(settings, Workspace(tmp_path / "run", media_roots=[tmp_path / "samples"]))
    first = invoke("make_sample_film", {"name": "tiny", "duration_s": 5}, ctx)
    assert first.ok, first.error
    assert (tmp_path / "samples" / "tiny.mp4").stat().st_size > 1000
    assert first.result["reused"] is False and len(first.result["scenes"]) == 5
    again = invoke("make_sample_film", {"name": "tiny", "duration_s": 5}, ctx)
    assert again.ok and again.result["reused"] is True
    bad = invoke("make_sample_film", {"name": "../escape"}, ctx)
    assert not bad.ok and "invalid film name" in bad.error
