"""Every edit as an OpenTimelineIO timeline: each format keeps exactly what the table says (checked on
what its adapter reads back), the timeline reads back into the same edit, the run folder moves whole,
and a cut scene and a subtitled scene leave their timelines too."""
from __future__ import annotations

import shutil
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.synthetic_media import make_tone
from tests.video.conftest import FPS
from tests.video.timeline_checks import kdenlive_has, mlt_has, otio_has
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings import settings_from_dict
from tools.core.types import ToolError
from tools.core.workspace import Workspace
from tools.video.edl import (
    EDL,
    AudioTrack,
    Clip,
    FreezeFrame,
    SubtitleLine,
    TextOverlay,
    TitleCard,
    Transition,
    Zoom,
)
from tools.video.timeline.formats import EVERYWHERE_LOST, FEATURES, FORMATS, read_back, used_features
from tools.video.timeline.read import read_timeline, timeline_to_edl

ALL = list(FORMATS)


def _ctx(root: Path, film_dir: Path):
    settings = settings_from_dict({"paths": {"cache_dir": str(root / "cache"), "media_roots": [str(film_dir)]},
                                   "video": {"timeline_formats": ALL}})
    return make_context(settings, Workspace(root / "run", media_roots=[film_dir]))


@pytest.fixture(scope="module")
def edit(film, film_dir, tmp_path_factory):
    """One render that uses every feature an edit has, with the timeline in every format."""
    root = tmp_path_factory.mktemp("timeline edit")
    ctx = _ctx(root, film_dir)
    voices = ctx.workspace.root / "voices"
    voices.mkdir(parents=True)
    make_tone(voices / "line 1.wav", 0.8, 500)
    make_tone(voices / "line 2.wav", 0.6, 700)
    make_tone(voices / "bed.wav", 1.0, 300, db=-20)
    edl = EDL(clips=[TitleCard(text="Tide\nKeeper", duration=0.75), Clip(source=film.name, start=0.2, end=1.4),
                     FreezeFrame(source=film.name, at=1.5, duration=0.5, transition=Transition(duration=0.25)),
                     Clip(source=film.name, start=2.0, end=2.75, speed=0.5, zoom=Zoom(factor=1.4))],
              subtitles=[SubtitleLine(text="Ahoy there", start=0.9, end=1.7)],
              overlays=[TextOverlay(text="SPLASH!", start=2.0, end=2.6, position="top")],
              audio=[AudioTrack(source="voices/line 1.wav", at=0.9), AudioTrack(source="voices/line 2.wav", at=2.3),
                     AudioTrack(effect="boing", at=1.8, gain_db=-3), AudioTrack(source="voices/bed.wav", at=0.2,
                                                                                 role="music")],
              original_gain_db=-2.0, fade_in=0.2, output="edit/all features.mp4")
    out = invoke("render_edit", {"edl": edl.model_dump()}, ctx)
    assert out.ok, out.error
    return ctx, edl, out.result


def test_the_render_lists_its_timeline_files_and_what_each_cannot_hold(edit):
    ctx, edl, result = edit
    assert set(result["timelines"]) == set(FORMATS)
    for fmt, path in result["timelines"].items():
        assert (ctx.workspace.root / path).is_file() and path.endswith(FORMATS[fmt].suffix)
    assert used_features(edl) == set(FEATURES) - {"music"} | {"music"}  # this edit uses every feature
    assert result["not_kept"]["otio"] == sorted(EVERYWHERE_LOST)
    assert set(result["not_kept"]["edl"]) >= {"voices", "subtitles", "ducking", "zoom"}


@pytest.mark.parametrize("fmt", ALL)
def test_each_format_keeps_exactly_what_the_table_says(edit, fmt):
    ctx, edl, result = edit
    path = ctx.workspace.root / result["timelines"][fmt]
    text = path.read_text(encoding="utf-8")
    checkable = set(FEATURES) - EVERYWHERE_LOST
    if fmt == "mlt":
        got = {f for f in checkable if mlt_has(f, text, edl)}
    else:
        back = read_back(path, fmt)  # the adapter's own reader must accept the file
        got = {f for f in checkable if otio_has(f, back, edl) or (fmt == "kdenlive" and kdenlive_has(f, text, edl))}
    assert got == FORMATS[fmt].keeps & checkable, (fmt, got ^ (FORMATS[fmt].keeps & checkable))
    for lost in sorted(set(result["not_kept"][fmt])):  # named inside the file, never dropped silently
        assert FEATURES[lost] in text, (fmt, lost)


@pytest.mark.skipif(shutil.which("melt") is None, reason="melt is not installed (apt-get install melt)")
def test_melt_plays_the_mlt_file_like_our_render_crossfade_and_freeze_included(edit):
    from tools.video.timeline.roundtrip import _gray, compare, melt_render

    ctx, _, result = edit
    root = ctx.workspace.root
    mlt = root / result["timelines"]["mlt"]
    theirs = melt_render(mlt, mlt.with_name("melt.mp4"))
    checked = EDL.model_validate_json((root / result["path"]).with_name(Path(result["path"]).stem + ".edl.json")
                                      .read_text())
    rt = compare(root / result["path"], theirs, checked, float(FPS), {})
    assert rt.duration_frames_off <= 1.01
    assert len(rt.frames) >= 4 and rt.max_frame_diff < 8.0, rt.frames
    middle = 0.75 + 1.2 - 0.125  # the dissolve into the freeze: both renders show the same blend

    def diff(a: Path, ta: float, b: Path, tb: float) -> float:
        return float(abs(_gray(a, ta, 90) - _gray(b, tb, 90)).mean())

    ours = root / result["path"]
    blend = diff(ours, middle, theirs, middle)
    either_side = min(diff(ours, middle, ours, middle - 0.15), diff(ours, middle, ours, middle + 0.15))
    assert blend < 2.5 and either_side > 2 * blend, (blend, either_side)  # a hard cut would show one side


def test_the_timeline_reads_back_into_the_same_edit(edit):
    ctx, edl, result = edit
    path = ctx.workspace.root / result["timelines"]["otio"]
    again = timeline_to_edl(read_timeline(path), path.parent, "edit/again.mp4").edl
    frame = 1.0 / FPS
    assert [c.kind for c in again.clips] == [c.kind for c in edl.clips]
    for a, b in zip(again.clips, edl.clips):
        for key in ("start", "end", "at", "duration", "speed"):
            if hasattr(b, key) and getattr(b, key) is not None:
                assert getattr(a, key) == pytest.approx(getattr(b, key), abs=frame), (b, key)
        assert (a.transition is None) == (b.transition is None)
        assert getattr(a, "zoom", None) == getattr(b, "zoom", None)  # kept in the metadata
    assert again.clips[0].text == edl.clips[0].text == "Tide Keeper"  # screen text is one line
    back, sent = sorted(again.audio, key=lambda t: t.at), sorted(edl.audio, key=lambda t: t.at)
    assert [(t.role, t.effect, Path(t.source or "").name) for t in back] == \
        [(t.role, t.effect, Path(t.source or "").name) for t in sent]
    assert [t.at for t in back] == pytest.approx([t.at for t in sent], abs=frame)
    assert [(s.text, s.start, s.end) for s in again.subtitles] == [(s.text, s.start, s.end) for s in edl.subtitles]
    assert [o.text for o in again.overlays] == ["SPLASH!"] and again.overlays[0].position == "top"
    assert again.original_gain_db == -2.0 and again.clips[1].gain_db == pytest.approx(0.0)
    assert again.fade_in == 0.2 and again.loudness_lufs == edl.loudness_lufs


def test_media_paths_are_relative_so_the_run_folder_moves_whole(edit, tmp_path, film):
    ctx, _, result = edit
    moved = tmp_path / "somewhere else"
    shutil.copytree(ctx.workspace.root, moved)
    tl = read_timeline(moved / result["timelines"]["otio"])
    urls = [c.media_reference.target_url for c in tl.find_clips()]
    inside = [u for u in urls if not Path(u).is_absolute()]
    assert inside and all(not u.startswith(str(ctx.workspace.root)) for u in urls)
    base = (moved / result["timelines"]["otio"]).parent
    assert all((base / u).is_file() for u in inside)  # voices, title card, effects: all found in the copy
    assert {u for u in urls if Path(u).is_absolute()} == {str(film.resolve())}  # the film stays in its library


def test_a_cut_scene_leaves_a_one_clip_timeline_in_every_format(film, film_dir, tmp_path):
    ctx = _ctx(tmp_path, film_dir)
    out = invoke("extract_clip", {"film": film.name, "start": 1.0, "end": 2.5}, ctx)
    assert out.ok, out.error
    files = {a.metadata["format"]: a.path for a in out.artifacts if a.kind == "timeline"}
    assert set(files) == set(FORMATS)
    for fmt, rel in files.items():
        if fmt == "mlt":
            continue  # no OTIO reader: melt reads it (tests/parody/test_timeline_export.py)
        back = read_back(ctx.workspace.root / rel, fmt)
        clips = [c for c in back.find_clips() if c.media_reference and
                 Path(getattr(c.media_reference, "target_url", "")).name == film.name]
        picture = clips[0]
        assert picture.source_range.start_time.to_seconds() == pytest.approx(1.0, abs=1 / FPS), fmt
        assert picture.source_range.duration.to_seconds() == pytest.approx(1.5, abs=1 / FPS), fmt


def test_a_subtitled_scene_keeps_its_lines_as_markers(film, film_dir, tmp_path):
    ctx = _ctx(tmp_path, film_dir)
    lines = [{"start": 1.2, "end": 1.9, "text": "The tide is turning"}, {"start": 2.1, "end": 2.8, "text": "Hold fast"}]
    out = invoke("render_subtitled_scene", {"film": film.name, "start": 1.0, "end": 3.0, "lines": lines}, ctx)
    assert out.ok, out.error
    files = {a.metadata["format"]: a.path for a in out.artifacts if a.kind == "timeline"}
    for fmt in ("otio", "kdenlive", "fcp7"):
        back = read_back(ctx.workspace.root / files[fmt], fmt)
        names = [m.name for m in back.tracks.markers]
        assert names == ["The tide is turning", "Hold fast"], fmt
        assert back.tracks.markers[0].marked_range.start_time.to_seconds() == pytest.approx(0.2, abs=1 / FPS)
    edl_text = (ctx.workspace.root / files["edl"]).read_text()
    assert "subtitles (markers)" in edl_text  # the cut list says it cannot hold them


def test_an_unreadable_timeline_is_a_clear_error(tmp_path):
    bad = tmp_path / "edited.otio"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ToolError, match="edited.otio is not a timeline"):
        read_timeline(bad)
    empty = otio.schema.Timeline(name="nothing")
    with pytest.raises(ToolError, match="no picture track"):
        timeline_to_edl(empty, tmp_path, "x.mp4")


def test_the_docs_table_is_the_formats_table():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "video.md").read_text(encoding="utf-8")
    for feature, label in FEATURES.items():
        row = next(line for line in doc.splitlines() if line.startswith(f"| {label} |"))
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        assert cells == ["yes" if feature in FORMATS[f].keeps else "—" for f in FORMATS], label


def test_a_kdenlive_project_without_our_metadata_renders_back(edit):
    """A timeline saved by another editor carries no animstudio metadata: the EDL saved beside the render
    gives what the format cannot show, the title card's PNG is held as a still, marker colours tell
    captions from subtitles."""
    ctx, edl, result = edit
    path = ctx.workspace.root / result["timelines"]["kdenlive"]
    saved = EDL.model_validate_json((ctx.workspace.root / result["path"]).with_name(
        Path(result["path"]).stem + ".edl.json").read_text())
    again = timeline_to_edl(read_back(path, "kdenlive"), path.parent, "edit/from kdenlive.mp4", saved).edl
    assert again.clips[0].kind == "freeze" and again.clips[0].source.endswith(".png")
    assert [s.text for s in again.subtitles] == ["Ahoy there"] and [o.text for o in again.overlays] == ["SPLASH!"]
    assert sorted(t.role for t in again.audio) == ["effect", "music", "voice", "voice"]
    assert again.loudness_lufs == edl.loudness_lufs and again.fade_in == edl.fade_in
    out = invoke("render_edit", {"edl": again.model_dump()}, ctx)
    assert out.ok, out.error
    assert out.result["duration"] == pytest.approx(result["duration"], abs=2 / FPS)


def test_export_refuses_an_unknown_format_and_a_run_without_edits(tmp_path):
    from typer.testing import CliRunner

    from agent.cli.main import app

    runs = tmp_path / "runs"
    (runs / "empty-run").mkdir(parents=True)
    base = ["--set", f"paths.runs_dir={runs}"]
    got = CliRunner().invoke(app, ["export", "empty-run", "--format", "premiere", *base])
    assert got.exit_code == 2 and "unknown timeline format premiere" in got.output
    got = CliRunner().invoke(app, ["export", "empty-run", "--format", "otio,edl", *base])
    assert got.exit_code == 2 and "saved no edit to export" in got.output
    got = CliRunner().invoke(app, ["run", "a parody", "--timeline", "kdenlive,avid", *base])
    assert got.exit_code == 2 and "unknown timeline format avid" in got.output
