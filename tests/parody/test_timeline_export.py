"""The parody's timeline: `animstudio export` writes every format and each adapter reads its file back;
melt renders the MLT timeline like our render (duration, frames, voices); an edited timeline (a voice
line moved, the last shot trimmed) is rendered and scored as the run's next iteration."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import opentimelineio as otio
import pytest
from typer.testing import CliRunner

from agent.cli.main import app
from tools.video.edl import EDL
from tools.video.timeline.formats import FORMATS, read_back, used_features
from tools.video.timeline.roundtrip import RATE, _peak, _sound

pytestmark = [pytest.mark.skipif(shutil.which("melt") is None, reason="melt is not installed (apt-get install melt)"),
              pytest.mark.slow]  # one parody shared with test_e2e, one melt render, one re-render and score
FRAME_DIFF_MAX = 8.0  # mean |difference| on 0-255 outside burned text: encoder noise is ~1, a wrong frame > 20


def _render(run) -> dict:
    return run.step_results["render"]["result"]


@pytest.fixture(scope="module")
def exported(good_run):
    run_dir = Path(good_run.run_dir)
    got = CliRunner().invoke(app, ["export", good_run.run_id, "--render", "--set", f"paths.runs_dir={run_dir.parent}"])
    assert got.exit_code == 0, got.output
    video = run_dir / _render(good_run)["video"]
    return good_run, video, got.output


def test_the_render_left_its_otio_timeline(good_run):
    render = _render(good_run)
    otio_file = Path(good_run.run_dir) / render["timelines"]["otio"]
    tl = otio.adapters.read_from_file(str(otio_file))
    meta = tl.metadata["animstudio"]
    assert meta["video"] == render["video"]
    names = [t.name for t in tl.tracks]
    assert names[:2] == ["Picture", "Film sound"] and "Effects" in names
    assert sum(n.startswith("Voice ") for n in names) == len(render["lines"])  # a track per voice line
    edl = EDL.model_validate(meta["edl"])
    assert len(tl.tracks.markers) == len(edl.subtitles) + len(edl.overlays)
    assert {"zoom", "loudness"} <= set(meta["not_kept"])  # the title's push-in and the loudness pass, said
    voice_urls = [c.media_reference.target_url for t in tl.tracks if t.name.startswith("Voice") for c in t.find_clips()]
    assert all(not Path(u).is_absolute() and (otio_file.parent / u).is_file() for u in voice_urls)


def test_export_writes_every_format_and_each_adapter_reads_it(exported):
    run, video, _ = exported
    edl = EDL.model_validate_json(video.with_name(video.stem + ".edl.json").read_text())
    assert {"voices", "subtitles", "effects", "ducking", "zoom"} <= used_features(edl)
    for fmt, spec in FORMATS.items():
        path = video.with_suffix(spec.suffix)
        assert path.is_file(), fmt
        if fmt == "mlt":
            continue  # melt reads it below
        back = read_back(path, fmt)
        assert abs(back.duration().to_seconds() - _render(run)["duration"]) < 0.2, fmt
    report = (Path(run.run_dir) / "report.html").read_text()
    assert 'id="timelines"' in report and video.with_suffix(".kdenlive").name in report
    assert "zoom punch-ins" in report  # what a format cannot hold is in the report too


def test_melt_renders_the_mlt_timeline_like_our_render(exported):
    _, video, output = exported
    rt = json.loads(video.with_name(video.stem + ".roundtrip.json").read_text())
    assert abs(rt["duration_ours"] - rt["duration_theirs"]) * rt["fps"] <= 1.01, rt
    assert len(rt["frames"]) >= 6 and max(f["diff"] for f in rt["frames"]) < FRAME_DIFF_MAX, rt["frames"]
    assert len(rt["voices"]) >= 3
    for v in rt["voices"]:  # every voice line heard at the same time in both renders
        assert abs(v["ours"] - v["theirs"]) <= 1.0 / rt["fps"], v
        assert abs(v["ours"] - v["at"]) <= 1.0 / rt["fps"] and v["corr_theirs"] > 0.3, v
    assert "frames off" in output


def test_an_edited_timeline_is_rendered_and_scored_as_the_next_iteration(exported, tmp_path, parody_film):
    from agent import Agent
    from agent.llm import FakeChatModel
    from tests.parody.scripted import parody_handler
    from tools.core.settings import Settings

    run, video, _ = exported
    tl = otio.adapters.read_from_file(str(video.with_suffix(".otio")))
    # In the editor: the second voice line and its subtitle 0.5 s later, the last shot 0.5 s shorter.
    voice = next(t for t in tl.tracks if t.name == "Voice 2")
    gap = voice[0]
    old_at = gap.duration().to_seconds()
    gap.source_range = otio.opentime.TimeRange(gap.source_range.start_time,
                                               gap.source_range.duration + otio.opentime.from_seconds(0.5, 24))
    line_text = voice[1].name
    sub = next(m for m in tl.tracks.markers if abs(m.marked_range.start_time.to_seconds() - old_at) < 0.05)
    sub.marked_range = otio.opentime.TimeRange(sub.marked_range.start_time + otio.opentime.from_seconds(0.5, 24),
                                               sub.marked_range.duration)
    for track in tl.tracks[:2]:
        last = track[len(track) - 1]
        last.source_range = otio.opentime.TimeRange(last.source_range.start_time,
                                                    last.source_range.duration - otio.opentime.from_seconds(0.5, 24))
    edited = tmp_path / "edited.otio"  # saved away from the run: relative paths still resolve
    otio.adapters.write_to_file(tl, str(edited))

    settings = Settings.model_validate_json((Path(run.run_dir) / "settings.json").read_text())
    before = len(run.quality)
    again = Agent(settings=settings, llm=FakeChatModel(handler=parody_handler(duration=16.0))).resume(
        run.run_id, timeline=edited)
    assert len(again.quality) == before + 1 and again.quality[-1]["iteration"] == before  # scored as the next one
    render = again.step_results["render"]["result"]
    assert "_edited_" in render["video"] and render["changes"] == ["re-rendered from the edited timeline edited.otio"]
    assert render["duration"] == pytest.approx(_render(run)["duration"] - 0.5, abs=0.1)
    assert again.step_results["score"]["iteration"] == before  # the score ran again on the new render
    moved = [ln for ln in render["lines"] if abs(ln["start"] - (old_at + 0.5)) < 0.05]
    assert moved, (render["lines"], old_at)
    # The voice is really heard half a second later in the new render.
    wav = next(c.media_reference.target_url for c in voice.find_clips())
    clip_voice = _sound((video.parent / wav).resolve())[: 2 * RATE]
    heard, corr = _peak(_sound(Path(run.run_dir) / render["video"]), clip_voice, old_at + 0.5)
    assert abs(heard - (old_at + 0.5)) < 0.05 and corr > 0.3, (heard, corr, line_text)
    assert again.status in ("passed", "failed") and again.report_path
