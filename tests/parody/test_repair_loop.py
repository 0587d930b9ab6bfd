"""The agent's loop repairs what the quality gate blames, end to end on a 24 s sample film: a voice the
recogniser cannot understand is re-voiced plainly and slower; a scene the request does not describe is
replaced by the one the evaluation found closer to the request. A scripted chat model keeps it fast."""
from __future__ import annotations

from pathlib import Path

import pytest

from agent import Agent
from agent.llm import FakeChatModel
from tests.parody.conftest import parody_settings_dict
from tests.parody.media_checks import tool_counts
from tests.parody.scripted import parody_handler
from tools.core.trace import read_trace

pytest.importorskip("faster_whisper", reason="faster-whisper is not installed")

SHORT_DRAFT = {"title": "Pip Takes the Plunge", "lines": [
    {"character": "Narrator", "text": "Pip is brave today."},
    {"character": "Pip", "text": "I am diving in now!"},
    {"character": "Narrator", "text": "Pip did not dive."}], "effects": []}
PARODY_S = 7.5  # 5.5 s of footage: three short lines fit, and the long film's scenes are about as long

# Pip's preset talks so fast and so high that speech recognition hears nothing it can use.
GARBLED_PRESETS = """characters:
  - name: Narrator
    voice: {voice: en-us, speed: 1.0}
  - name: Pip
    voice: {voice: en-us+f3, pitch: 11.0, speed: 1.9}
"""


def _settings(root: Path, chroma: Path, film: Path):
    from tools.core.settings import settings_from_dict

    presets = root / "characters.yaml"
    presets.write_text(GARBLED_PRESETS, encoding="utf-8")
    return settings_from_dict(parody_settings_dict(
        root, chroma, image={"characters_file": str(presets)}, tts={"backend": "espeak"},
        agent={"max_iterations": 3}, paths={"cache_dir": str(film.parent / "cache")}))


def _gate(result, iteration: int) -> dict:
    entry = next(q for q in result.quality if q["iteration"] == iteration)
    scored = next(r for r in entry["reports"] if r["scorer"] == "parody_quality")
    return {r["scorer"]: r for r in scored["reports"]}


def test_a_voice_nobody_understands_is_revoiced_until_it_is_heard(long_film, shared_chroma, tmp_path):
    settings = _settings(tmp_path, shared_chroma, long_film)
    llm = FakeChatModel(handler=parody_handler(duration=PARODY_S, draft=SHORT_DRAFT))
    result = Agent(settings=settings, llm=llm).run(f"dub the waves bit with a brave little hero, {PARODY_S:g} seconds",
                                                   film=long_film)
    first = _gate(result, 0)["speech"]
    assert not first["passed"] and [f["data"]["speaker"] for f in first["findings"]] == ["Pip"]
    assert first["findings"][0]["code"] in ("line_missing", "line_garbled", "line_wrong_words", "line_cut")
    replan = next(e for e in read_trace(result.trace_path) if e["kind"] == "reflect.replan")
    assert "voices" in replan["blamed"] and "find" not in replan["redo"] and "script" not in replan["redo"]
    assert result.status == "passed" and _gate(result, result.iterations - 1)["speech"]["passed"]
    counts = tool_counts(Path(result.trace_path))
    assert counts["find_scene"] == 1 and counts["write_parody_script"] == 1 and counts["voice_script"] >= 2
    pip = [e["args"] for e in read_trace(result.trace_path) if e["kind"] == "tool.call"
           and e.get("tool") == "synthesize_speech" and "diving" in e["args"]["text"]]
    assert pip[0]["emotion"] == "excited" and pip[-1]["emotion"] == "neutral"  # plain delivery
    assert pip[-1]["speed"] < 0.6 and pip[-1]["pitch"] == -11.0  # the preset's speed-up and pitch cancelled


def test_a_scene_the_request_does_not_describe_is_replaced(long_film, shared_chroma, tmp_path):
    # The model "refines" the request's scene words with the harbour's: the search follows it to the harbour.
    settings = _settings(tmp_path, shared_chroma, long_film)
    narrator_only = {**SHORT_DRAFT, "lines": [{**line, "character": "Narrator"} for line in SHORT_DRAFT["lines"]]}
    handler = parody_handler(duration=PARODY_S, draft=narrator_only)
    misled = ("the scene with the trees and the grass beside the dark harbour at night, boats and the lit windows "
              "of the night town")

    def refines_towards_the_harbour(call):
        if call.schema_title and call.schema_title.endswith("_params"):
            return {"scene": misled, "target_duration_s": PARODY_S}
        return handler(call)

    result = Agent(settings=settings, llm=FakeChatModel(handler=refines_towards_the_harbour)).run(
        f"spoof the scene with the trees and the grass, {PARODY_S:g} seconds", film=long_film)
    assert result.plan["params"]["scene"] == misled  # the search ran on the model's words
    first = _gate(result, 0)["scene_fit"]
    assert not first["passed"] and "find" in first["blame"]
    mismatch = next(f for f in first["findings"] if f["code"] == "scene_mismatch")
    events = read_trace(result.trace_path)
    redo = next(e for e in events if e["kind"] == "video.find_scene.redo")
    assert redo["excluded"] == [mismatch["data"]["scene"]] and redo["chosen"][0] == mismatch["data"]["candidates"][0]
    assert result.status == "passed" and _gate(result, result.iterations - 1)["scene_fit"]["passed"]
    assert tool_counts(Path(result.trace_path))["find_scene"] == 2
    final_scene = result.step_results["find"]["result"]["matches"][0]["scene"]
    assert "forest" in final_scene["description"] or "vegetation" in final_scene["description"]
