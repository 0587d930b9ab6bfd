"""Video and audio scorers on synthetic clips with known defects: the score drops and the blame is right."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.core.findings import Code
from tools.core.settings import settings_from_dict
from tools.core.types import ToolError
from tools.quality.av import LineWindow, score_audio, score_video
from tools.quality.measure import decode_mono
from tools.quality.speech import score_speech


def test_good_clip_passes_video_and_audio(media, settings) -> None:
    video = score_video(media["good"], settings.quality, target_duration=4.0)
    audio = score_audio(media["good"], settings.quality, [LineWindow(text="hello there", start=0.5, end=3.5)])
    assert video.passed and video.score > 0.95, video
    assert audio.passed and audio.score > 0.9, audio
    assert abs(audio.metrics["integrated_lufs"] - (-18)) < 4


def test_black_stretch_is_found_and_blames_render(media, settings) -> None:
    good = score_video(media["good"], settings.quality)
    black = score_video(media["black"], settings.quality)
    assert black.score < good.score
    assert 1.7 < black.metrics["black_s"] < 2.3
    assert black.metrics["black"][0]["start"] == pytest.approx(1.0, abs=0.15)
    assert "render" in black.blame and any("black" in r for r in black.reasons)


def test_frozen_picture_blames_render_with_its_code(media, settings) -> None:
    frozen = score_video(media["frozen"], settings.quality)
    assert frozen.metrics["frozen_s"] > 2.0
    assert "render" in frozen.blame and not frozen.passed
    assert [f.code for f in frozen.findings] == [Code.frozen_picture]


def test_duration_off_target_blames_script(media, settings) -> None:
    report = score_video(media["good"], settings.quality, target_duration=12.0)
    assert report.metrics["duration_error"] == pytest.approx(2 / 3, abs=0.02)
    assert "script" in report.blame and not report.passed


def test_missing_audio_and_drift_and_low_res_blame_render(media, settings) -> None:
    mute = score_video(media["mute"], settings.quality)
    assert not mute.passed and "render" in mute.blame
    drift = score_video(media["drift"], settings.quality)
    assert drift.metrics["av_drift_s"] > 1.5 and "render" in drift.blame
    low = score_video(media["low_res"], settings.quality)
    assert low.score < score_video(media["good"], settings.quality).score and "render" in low.blame


def test_a_small_film_lowers_the_resolution_bar(media, settings) -> None:
    # Cut from a 90-line film, 90 lines is all a render can keep: not the render's fault.
    from_small_film = score_video(media["low_res"], settings.quality, source_height=90)
    assert "low_resolution" not in {f.code for f in from_small_film.findings}
    from_big_film = score_video(media["low_res"], settings.quality, source_height=1080)
    assert "low_resolution" in {f.code for f in from_big_film.findings}


def test_clipped_loud_tone_blames_audio_mix(media, settings) -> None:
    report = score_audio(media["clipped"], settings.quality)
    assert report.metrics["true_peak_db"] > 0 and report.metrics["clipped_ratio"] > 0.001
    assert not report.passed and report.blame == ["audio_mix"]


def test_silence_fails_and_blames_voices(media, settings) -> None:
    report = score_audio(media["silent"], settings.quality, [LineWindow(text="ahoy", start=0.5, end=2.0)])
    assert not report.passed and "voices" in report.blame


def test_without_a_recogniser_a_quiet_line_window_is_found(media, tmp_path) -> None:
    # No speech model at hand: the speech scorer falls back to energy in each line's window and says so.
    settings = settings_from_dict({"video": {"asr_model_path": str(tmp_path / "no model")}})
    lines = [LineWindow(text="first line", start=0.3, end=1.7), LineWindow(text="second line", start=2.3, end=3.7)]
    report = score_speech(decode_mono(media["half"]), lines, settings)
    assert report.metrics["method"] == "energy" and not report.passed and "voices" in report.blame
    assert [f.data["line"] for f in report.findings if f.code == Code.line_not_heard] == [0]
    assert any("speech recognition unavailable" in r for r in report.reasons)
    full = score_speech(decode_mono(media["good"]), lines, settings)
    assert full.passed and full.score > report.score


def test_broken_inputs_are_clear_errors(tmp_path: Path, settings) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(ToolError, match="empty"):
        score_video(empty, settings.quality)
    junk = tmp_path / "junk file.mp4"
    junk.write_bytes(b"not a video at all" * 10)
    with pytest.raises(ToolError, match="not a readable media file"):
        score_audio(junk, settings.quality)
