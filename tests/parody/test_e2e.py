"""The parody workflow end to end through the agent graph, on a 14 s sample film."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from agent import Agent
from agent.llm import FakeChatModel
from tests.parody.media_checks import band_db, frame, mono, tool_counts
from tests.parody.scripted import parody_handler
from tools.core.trace import read_trace
from tools.media.probe import media_info

REQUEST = "make a funny parody of the ocean scene"


def _render(result) -> dict:
    return result.step_results["render"]["result"]


def test_routes_to_the_parody_and_passes(good_run):
    assert good_run.plan["workflow"] == "parody"
    assert [s["id"] for s in good_run.plan["steps"]] == ["find", "script", "voices", "render", "score"]
    assert good_run.status == "passed" and good_run.quality[-1]["combined"] >= 0.7
    score = good_run.step_results["score"]["result"]
    assert {"video", "audio", "subtitles"} <= {r["scorer"] for r in score["reports"] if not r["skipped"]}
    video = next(a for a in good_run.artifacts if a["kind"] == "video" and a["metadata"].get("final"))
    assert video["path"].endswith(".mp4") and video["path"] in good_run.final_answer


def test_the_mp4_has_the_planned_length_audio_and_voices(good_run):
    render = _render(good_run)
    info = media_info(Path(good_run.run_dir) / render["video"])
    assert info.has_video and info.has_audio
    assert abs(info.duration - 16.0) < 0.2 and abs(render["planned_duration"] - 16.0) < 0.05
    assert render["in_scene"] >= 0.8  # the footage stays in the ocean scene, replayed rather than walked out of
    scene = good_run.step_results["find"]["result"]["matches"][0]["scene"]
    moving = [s for s in render["timeline"] if s["kind"] != "title"]
    assert all(scene["start"] - 0.05 <= s["src_start"] and s["src_end"] <= scene["end"] + 0.05 for s in moving)
    assert len(render["lines"]) >= 3 and render["inserts"]["mode"] == "keyframes"
    assert "image.sdxl_model_path" in render["inserts"]["why"]
    spoken = [ln["speaker"] for ln in render["lines"]]
    assert "Narrator" in spoken and "Pip" in spoken


def test_original_sound_is_ducked_under_the_voices(good_run):
    render = _render(good_run)
    audio = mono(Path(good_run.run_dir) / render["video"])
    moving = [(s["out_start"], s["out_end"]) for s in render["timeline"] if s["kind"] in ("clip", "slow", "zoom", "replay")]
    voiced = [(ln["start"], ln["end"]) for ln in render["lines"]]

    def inside(a, b):
        return any(s <= a and b <= e for s, e in moving)

    under = [band_db(audio, a + 0.2, b - 0.1) for a, b in voiced if b - a > 0.6 and inside(a + 0.2, b - 0.1)]
    free = []
    for s, e in moving:  # stretches at least 0.45 s away from any voice
        t = s + 0.1
        while t + 0.5 <= e:
            if not any(a - 0.45 < t + 0.5 and t < b + 0.45 for a, b in voiced):
                free.append(band_db(audio, t, t + 0.5))
            t += 0.25
    assert under and free
    assert np.mean(free) - np.mean(under) > 4.0, (free, under)


def test_subtitles_are_burned_into_the_picture(good_run, parody_film):
    render = _render(good_run)
    out = Path(good_run.run_dir) / render["video"]
    srt = (Path(good_run.run_dir) / render["subtitles"]).read_text()
    assert "Pip believes he can fly" in srt
    checked = 0
    spans = render["timeline"]  # a short scene is replayed in slow motion under an "Again, in slow motion." caption
    captions = [(s["out_start"], s["out_start"] + 1.7) for s, prev in zip(spans[1:], spans)
                if s["kind"] == "replay" and prev["kind"] != "replay"]
    for ln in render["lines"]:
        t = (ln["start"] + ln["end"]) / 2
        span = next((s for s in spans if s["kind"] in ("clip", "replay") and s["out_start"] + 0.1 < t < s["out_end"] - 0.1),
                    None)
        if span is None or any(a - 0.1 <= t <= b + 0.1 for a, b in captions):
            continue
        src_t = span["src_start"] + (t - span["out_start"]) * span["speed"]
        a = frame(out, t, (320, 180))
        # The source frame the output shows: the mapped time can land a frame off (frame boundaries, slow motion),
        # so the candidate whose top band (never subtitled) matches best is the one compared.
        b = min((frame(parody_film, max(0.0, src_t + k / 24), (320, 180)) for k in (-2, -1, 0, 1, 2)),
                key=lambda f: float(np.abs(a[:90] - f[:90]).mean()))
        # Share of pixels changed strongly (text strokes), not the mean: a short cue covers little of the band.
        changed = np.abs(a - b) > 40
        bottom, top = changed[140:].mean(), changed[:90].mean()
        assert bottom > 0.005 and bottom > 20 * top, (t, bottom, top)  # text drawn only where subtitles go
        checked += 1
    assert checked >= 2


def test_low_scores_iterate_to_the_cap_redoing_only_the_blamed_steps(parody_film, parody_settings):
    # A real judge (the fake backend is not the tiny default model) that always finds the script unfunny.
    settings = parody_settings(llm={"backend": "fake"}, agent={"max_iterations": 2})
    llm = FakeChatModel(handler=parody_handler(duration=12.0, judge="flat"))
    result = Agent(settings=settings, llm=llm).run(REQUEST, film=parody_film)
    assert [q["iteration"] for q in result.quality] == [0, 1] and result.status == "failed"
    trace = Path(result.trace_path)
    counts = tool_counts(trace)
    assert counts["find_scene"] == 1  # never blamed: the scene search is not redone
    assert counts["write_parody_script"] == 2 and counts["voice_script"] == 2 and counts["assemble_parody"] == 2
    assert counts["score_parody"] == 2
    replan = next(e for e in read_trace(trace) if e["kind"] == "reflect.replan")
    # The judge blames the script; the gate may also ask for a clearer voice (Piper is not bit-exact).
    assert "script" in replan["blamed"] and "find" not in replan["redo"]
    drafts = [c.last_text for c in llm.calls if c.schema_title == "ScriptDraft"]
    assert not any("is not a joke" in d for d in drafts[:3]) and "is not a joke" in drafts[-1]
    videos = sorted(Path(result.run_dir, "parody").glob("parody_*.mp4"))
    assert [v.name for v in videos] == ["parody_0.mp4", "parody_1.mp4"]
    saved = json.loads((Path(result.run_dir) / "result.json").read_text())
    assert saved["iterations"] == 2
