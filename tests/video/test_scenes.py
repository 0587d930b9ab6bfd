"""detect_scenes: cuts at the right frames, descriptors that tell scenes apart, the cache, bad input."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.synthetic_media import FOREST, OCEAN, SceneSpec, cut_frames, make_video
from tests.video.conftest import FPS, SCENES, SIZE
from tools.core.registry import invoke
from tools.video.models import SceneList


def _detect(ctx, film) -> SceneList:
    out = invoke("detect_scenes", {"film": str(film)}, ctx)
    assert out.ok, out.error
    return SceneList.model_validate(out.result)


def test_cuts_at_the_right_frames_with_keyframes(ctx, film: Path) -> None:
    result = _detect(ctx, film)
    assert [s.start_frame for s in result.scenes[1:]] == cut_frames(SCENES, FPS) == [24, 48, 72]
    assert result.scenes[-1].end_frame == result.frames == 96
    assert result.scenes[1].start == pytest.approx(1.0) and result.scenes[1].start_timecode == "00:00:01.000"
    for scene in result.scenes:
        thumb = ctx.workspace.root / scene.keyframe
        assert thumb.is_file() and thumb.read_bytes()[:2] == b"\xff\xd8"  # a JPEG in the workspace
        assert scene.start <= scene.keyframe_time < scene.end


def test_descriptors_tell_water_from_forest_and_night(ctx, film: Path) -> None:
    ocean, forest, night, sunset = _detect(ctx, film).scenes
    assert ocean.descriptors.water_ratio > 0.5 and ocean.descriptors.sky_ratio > 0.2
    assert forest.descriptors.vegetation_ratio > 0.8 and forest.descriptors.water_ratio < 0.05
    assert ocean.descriptors.vegetation_ratio < 0.05
    assert night.descriptors.brightness < 0.25 < forest.descriptors.brightness
    assert sunset.descriptors.warm_ratio > 0.5
    assert {"light blue", "blue", "teal"} & {c.name for c in ocean.descriptors.dominant_colors}
    assert ocean.descriptors.motion_energy > night.descriptors.motion_energy  # waves move, the town is still
    assert "ocean" in ocean.description and "forest" in forest.description and "night" in night.description
    # a -12 dBFS peak sine is about -15 dBFS RMS
    assert ocean.descriptors.loudness_db == pytest.approx(-15.0, abs=1.5)


def test_second_call_is_served_from_cache(ctx, film: Path) -> None:
    first = _detect(ctx, film)
    t = time.perf_counter()
    second = _detect(ctx, film)
    assert not first.cached and second.cached
    assert time.perf_counter() - t < 1.0
    assert [s.model_dump() for s in second.scenes] == [s.model_dump() for s in first.scenes]


def test_content_detector_and_silent_scene(ctx, film_dir: Path) -> None:
    quiet = make_video(film_dir / "quiet.mp4", [OCEAN, SceneSpec("forest", tone_hz=None)], size=SIZE, fps=FPS)
    ctx.settings.video.detector = "content"
    result = _detect(ctx, quiet)
    assert [s.start_frame for s in result.scenes] == [0, 24]
    assert result.scenes[1].descriptors.loudness_db < -60 < result.scenes[0].descriptors.loudness_db
    assert "silent" in result.scenes[1].description


def test_video_without_audio_has_no_loudness(ctx, film_dir: Path) -> None:
    mute = make_video(film_dir / "mute.mp4", [OCEAN, FOREST], size=SIZE, fps=FPS, audio=False)
    result = _detect(ctx, mute)
    assert len(result.scenes) == 2 and all(s.descriptors.loudness_db is None for s in result.scenes)


def test_odd_path_with_spaces_and_unicode(ctx, film: Path) -> None:
    odd = ctx.workspace.root / "my films" / "Лука — océan ☀.mp4"
    odd.parent.mkdir(parents=True)
    shutil.copyfile(film, odd)
    result = _detect(ctx, "my films/Лука — océan ☀.mp4")
    assert len(result.scenes) == 4


@pytest.mark.parametrize("case", ["missing", "empty", "text", "audio_only", "outside"])
def test_bad_input_gives_clear_error(ctx, tmp_path: Path, case: str) -> None:
    root = ctx.workspace.root
    if case == "missing":
        target, expect = "nope.mp4", "not found"
    elif case == "empty":
        (root / "empty.mp4").write_bytes(b"")
        target, expect = "empty.mp4", "empty"
    elif case == "text":
        (root / "notes.mp4").write_text("not a video")
        target, expect = "notes.mp4", "not a readable media file"
    elif case == "audio_only":
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=d=1", str(root / "tone.m4a")], check=True)
        target, expect = "tone.m4a", "no video stream"
    else:
        target, expect = "/etc/hostname", "outside the run workspace"
    out = invoke("detect_scenes", {"film": target}, ctx)
    # a path that is not there or not allowed is an invalid argument; a bad file is the tool's error
    assert not out.ok and out.error_kind == ("validation" if case in ("missing", "outside") else "tool")
    assert expect in out.error
