"""render_edit: every EDL feature changes the output measurably; bad edits fail clearly."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.synthetic_media import FOREST, OCEAN, make_tone, make_video
from tests.video.conftest import FPS, SIZE, audio_of, band_db, frame_at
from tools.core.registry import invoke
from tools.media.probe import media_info
from tools.video.edl import (
    EDL,
    AudioTrack,
    Clip,
    Ducking,
    FreezeFrame,
    SubtitleLine,
    TextOverlay,
    TextStyle,
    TitleCard,
    Transition,
    Zoom,
)
from tools.video.render import render


def _render(ctx, edl: EDL) -> Path:
    out = invoke("render_edit", {"edl": edl.model_dump()}, ctx)
    assert out.ok, out.error
    path = ctx.workspace.root / out.result["path"]
    info = media_info(path)
    assert {s.codec for s in info.streams} == {"h264", "aac"}
    assert info.duration == pytest.approx(out.result["expected_duration"], abs=0.15)
    return path


def _two_cuts(film: Path, **kw) -> EDL:
    return EDL(clips=[Clip(source=str(film), start=0, end=1), Clip(source=str(film), start=1, end=2)],
               loudness_lufs=None, **kw)


def test_cuts_progress_and_trace(ctx, film: Path) -> None:
    events: list[dict] = []
    ctx.progress.listeners.append(events.append)
    ctx.trace.subscribe(events.append)
    try:
        path = _render(ctx, _two_cuts(film))
    finally:
        ctx.progress.listeners.remove(events.append)
    assert media_info(path).duration == pytest.approx(2.0, abs=0.1)
    ocean, forest = frame_at(path, 0.5), frame_at(path, 1.5)
    assert ocean[60:, :, 2].mean() > ocean[60:, :, 1].mean() and forest[..., 1].mean() > forest[..., 2].mean()
    done = [e for e in events if "completed" in e and e.get("done")]
    assert done and done[-1]["completed"] == pytest.approx(2.0, abs=0.1)
    assert any(e.get("kind") == "video.render.progress" for e in events)
    assert (path.with_suffix(".filtergraph.txt")).read_text().count("concat=n=2") == 1


def test_overlay_subtitles_in_cyrillic_and_greek_and_loudness(ctx, film: Path) -> None:
    plain = _render(ctx, _two_cuts(film, output="plain.mp4"))
    edl = _two_cuts(film, output="titled.mp4",
                    overlays=[TextOverlay(text="SPLASH!", start=0.0, end=2.0, position="top", style=TextStyle(size=0.2))],
                    subtitles=[SubtitleLine(text="Привет, Γειά σου", start=0.1, end=1.9)])
    edl.loudness_lufs = -20.0
    titled = _render(ctx, edl)
    a, b = frame_at(plain, 0.5), frame_at(titled, 0.5)
    top, bottom, middle = slice(0, 25), slice(65, 90), slice(35, 55)
    def changed(region: slice) -> float:  # share of pixels that changed a lot (encoder noise never does)
        return float((np.abs(a[region] - b[region]).max(axis=-1) > 60).mean())

    assert changed(middle) < 0.002
    assert changed(top) > 0.03  # the overlay
    assert changed(bottom) > 0.01  # the Cyrillic/Greek subtitle glyphs
    assert (ctx.workspace.root / "titled.srt").read_text(encoding="utf-8").count("Привет, Γειά σου") == 1
    log = subprocess.run(["ffmpeg", "-nostats", "-i", str(titled), "-map", "0:a", "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", log)[-1])
    assert integrated == pytest.approx(-20.0, abs=2.0)


def test_speed_freeze_title_crossfade_zoom_and_fade(ctx, film: Path) -> None:
    edl = EDL(clips=[Clip(source=str(film), start=0, end=2, speed=2.0),
                     FreezeFrame(source=str(film), at=0.5, duration=0.5),
                     TitleCard(text="Later", duration=0.5, transition=Transition(duration=0.25)),
                     Clip(source=str(film), start=3.0, end=3.5, zoom=Zoom(factor=2.0))],
              fade_in=0.3, loudness_lufs=None, output="fx.mp4")
    path = _render(ctx, edl)
    assert media_info(path).duration == pytest.approx(2.25, abs=0.1)
    assert frame_at(path, 0.75)[..., 1].mean() > frame_at(path, 0.75)[..., 2].mean()  # 2x: forest already
    assert frame_at(path, 0.02).mean() < 0.3 * frame_at(path, 0.45).mean()  # fade in from black
    f1, f2 = frame_at(path, 1.05), frame_at(path, 1.2)
    assert np.abs(f1 - f2).mean() < 1.5  # frozen ...
    assert np.abs(frame_at(film, 0.55) - frame_at(film, 0.7)).mean() > 3  # ... although the waves move
    title = frame_at(path, 1.6)
    assert title.mean() < 40 and title.max() > 200  # white text on black
    mix = frame_at(path, 1.375)[..., 2].mean()
    assert title[..., 2].mean() + 10 < mix < f1[..., 2].mean() - 10  # crossfade: between the two
    zoomed, source = frame_at(path, 2.0), frame_at(film, 3.25)
    assert zoomed[0, :, 1].mean() > source[0, :, 1].mean() + 15  # top row now shows the middle of the gradient


def test_ducking_lowers_the_original_under_the_voice_and_effects_play(ctx, film: Path) -> None:
    make_tone(ctx.workspace.root / "voice.wav", seconds=1.0, hz=1000, db=-6)
    tracks = [AudioTrack(source="voice.wav", at=0.5), AudioTrack(effect="ding", at=1.6, role="effect")]
    ducked = _render(ctx, _two_cuts(film, output="ducked.mp4", audio=tracks))
    flat = _render(ctx, _two_cuts(film, output="flat.mp4", audio=tracks, duck=Ducking(enabled=False)))
    xd, xf, r = audio_of(ducked), audio_of(flat), 16000
    assert band_db(xd, r, 440, 0.9, 1.4) < band_db(xf, r, 440, 0.9, 1.4) - 6  # original ducked under the voice
    assert band_db(xd, r, 440, 0.0, 0.4) == pytest.approx(band_db(xf, r, 440, 0.0, 0.4), abs=1.5)  # not before
    assert band_db(xd, r, 1000, 0.6, 1.4) > band_db(xd, r, 1000, 0.0, 0.4) + 20  # the voice is there
    assert band_db(xf, r, 1320, 1.65, 1.95) > band_db(xf, r, 1320, 0.0, 0.4) + 20  # the ding


def test_make_sound_effect_writes_audible_audio(ctx) -> None:
    out = invoke("make_sound_effect", {"name": "rimshot", "duration": 1.0}, ctx)
    assert out.ok, out.error
    x = audio_of(ctx.workspace.root / out.result["path"])
    assert len(x) / 16000 == pytest.approx(1.0, abs=0.05) and np.abs(x).max() > 0.2
    bad = invoke("make_sound_effect", {"name": "kazoo"}, ctx)
    assert not bad.ok and "boing" in bad.hint


def test_odd_paths_and_a_mute_source(ctx, film_dir: Path) -> None:
    folder = ctx.workspace.root / "sources ü"
    folder.mkdir()
    mute = make_video(folder / "Лука: ocean's edge.mp4", [OCEAN, FOREST], size=SIZE, fps=FPS, audio=False)
    edl = EDL(clips=[Clip(source=str(mute), start=0.5, end=1.5)], output="renders/my edit ü.mp4")
    result = render(ctx, edl)
    assert result.path == "renders/my edit ü.mp4" and result.duration == pytest.approx(1.0, abs=0.1)
    assert np.abs(audio_of(ctx.workspace.root / result.path)).max() < 1e-3


def test_bad_edits_list_every_problem(ctx, film: Path) -> None:
    shutil.copyfile(film, ctx.workspace.root / "film.mp4")
    make_video(ctx.workspace.root / "mute.mp4", [OCEAN], size=SIZE, fps=FPS, audio=False)
    edl = {"clips": [{"source": "film.mp4", "start": 3.5, "end": 9.0}, {"source": "missing.mp4"},
                     {"source": "film.mp4", "at": 7.0, "duration": 1}],
           "overlays": [{"text": "late", "start": 50, "end": 51}], "audio": [{"source": "mute.mp4"}]}
    out = invoke("render_edit", {"edl": edl}, ctx)
    assert not out.ok and out.error_kind == "tool"
    for expect in ("end 9.0s is past the end", "missing.mp4: File not found", "freeze time 7.0s",
                   "mute.mp4: the file has no audio stream"):
        assert expect in out.error
    zero = invoke("render_edit", {"edl": {"clips": [{"source": "film.mp4", "start": 1, "end": 1}]}}, ctx)
    assert not zero.ok and zero.error_kind == "validation" and "zero-length" in zero.error
    outside = invoke("render_edit", {"edl": {"clips": [{"source": "film.mp4"}], "output": "../x.mp4"}}, ctx)
    assert not outside.ok and "escapes" in outside.error
