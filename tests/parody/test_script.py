"""write_parody_script: the model writes slot by slot, the engine repairs and fills; nonsense → the engine's
script; feedback, candidates, per-line sources."""
from __future__ import annotations

import pytest

from agent.llm import FakeChatModel
from tests.parody.scripted import GOOD_DRAFT, NONSENSE_DRAFT
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.parody.models import ParodyScript, ScriptLine
from tools.parody.timing import fit_lines, nonsense_reason

SCENE = {"index": 1, "start": 5.0, "end": 15.0, "description": "bright daylight; ocean or sea under a blue sky"}


def _ctx(settings, handler=None):
    llm = FakeChatModel(handler=handler) if handler else None
    return make_context(settings, llm=llm), llm


def _check_timing(script: dict, footage: float) -> None:
    lines = script["lines"]
    assert lines
    for a, b in zip(lines, lines[1:]):
        assert b["start"] >= a["end"]  # no overlaps, in order
    for line in lines:
        length = line["end"] - line["start"]
        assert length >= 1.2 - 1e-6
        assert len(line["text"]) / length <= 17.0
        assert 0 <= line["start"] and line["end"] <= footage


def test_a_good_draft_is_kept_and_retimed(isolated_settings):
    ctx, _ = _ctx(isolated_settings, lambda call: GOOD_DRAFT if call.schema_title == "ScriptDraft" else None)
    out = invoke("write_parody_script", {"scene": SCENE, "request": "parody", "characters": ["Pip", "Gull"],
                                         "duration_s": 20.0}, ctx)
    assert out.ok, out.error
    res = out.result
    assert res["source"] in ("llm", "llm_repaired") and res["footage_duration"] == 18.0
    lines = res["script"]["lines"]
    # the model's lines fill the first slots, in order; the engine fills only the slots it left empty
    assert [l["text"] for l in lines[:4]] == [l["text"] for l in GOOD_DRAFT["lines"]]
    assert [l["source"] for l in lines[:4]] == ["model"] * 4 and all(l["source"] == "engine" for l in lines[4:])
    assert res["line_sources"]["model"] == 4 and res["model_speed"]["tokens_per_s"] > 0
    _check_timing(res["script"], 18.0)
    assert res["script"]["effects"][0]["kind"] == "freeze_frame" and res["script"]["effects"][0]["sound"]
    assert "Pip: Watch this" in res["text"]


def test_nonsense_from_the_model_falls_back_to_the_template(isolated_settings):
    ctx, llm = _ctx(isolated_settings, lambda call: NONSENSE_DRAFT if call.schema_title == "ScriptDraft" else None)
    out = invoke("write_parody_script", {"scene": SCENE, "characters": ["Pip", "Captain Brine"],
                                         "duration_s": 30.0, "candidates": 2}, ctx)
    assert out.ok, out.error
    res = out.result
    assert res["source"] == "template" and res["why"].startswith("engine:")
    assert len(res["candidates"]) == 3 and res["candidates"][-1]["source"] == "template"
    assert all(l["source"] == "engine" for l in res["script"]["lines"]) and len(res["script"]["lines"]) >= 4
    assert "ocean" in res["text"].lower()
    _check_timing(res["script"], 28.0)
    assert all(nonsense_reason(l["text"]) is None for l in res["script"]["lines"])


def test_no_model_and_a_failing_model_both_use_the_template(isolated_settings):
    ctx, _ = _ctx(isolated_settings)
    out = invoke("write_parody_script", {"scene": SCENE, "characters": ["Pip"]}, ctx)
    assert out.ok and out.result["source"] == "template" and "no LLM" in out.result["why"]
    ctx, _ = _ctx(isolated_settings, lambda call: RuntimeError("endpoint down") if call.schema_title else None)
    out = invoke("write_parody_script", {"scene": SCENE, "characters": ["Pip"]}, ctx)
    assert out.ok and out.result["source"] == "template" and "endpoint down" in out.result["why"]


def test_feedback_reaches_the_prompt_and_a_redo_changes_the_template(isolated_settings):
    ctx, llm = _ctx(isolated_settings, lambda call: NONSENSE_DRAFT if call.schema_title == "ScriptDraft" else None)
    first = invoke("write_parody_script", {"scene": SCENE, "characters": ["Pip"], "iteration": 0}, ctx).result
    second = invoke("write_parody_script", {"scene": SCENE, "characters": ["Pip"], "iteration": 1,
                                            "feedback": ["script: humour 1/5", "the joke is too long"]}, ctx).result
    assert first["text"] != second["text"] and first["technique"] != second["technique"]
    prompts = [c.last_text for c in llm.calls if c.schema_title == "ScriptDraft"]
    assert "humour 1/5" not in prompts[0] and "humour 1/5" in prompts[-1]


def test_candidates_keep_the_best_by_the_critic(isolated_settings):
    weak = {"title": "Splash", "lines": [{"character": "Pip", "text": "Hello there friend."},
                                         {"character": "Pip", "text": "Nice water today."},
                                         {"character": "Pip", "text": "Very wet indeed."}], "effects": []}
    answers = iter([weak, GOOD_DRAFT, weak])
    ctx, llm = _ctx(isolated_settings, lambda call: next(answers) if call.schema_title == "ScriptDraft" else None)
    res = invoke("write_parody_script", {"scene": SCENE, "characters": ["Pip", "Gull"], "candidates": 3}, ctx).result
    scores = [c["score"] for c in res["candidates"]]
    assert len(scores) == 3 and scores[1] == max(scores) and scores[1] > scores[0]
    assert res["script"]["title"] == "Pip's Big Splash"
    prompts = [c.last_text for c in llm.calls if c.schema_title == "ScriptDraft"]
    assert len(set(prompts)) == 3  # each candidate asked for another technique


@pytest.mark.parametrize("text, bad", [("", True), ("word word word word word", True), ("Hi", True),
                                       ("He is a sea creature. He is a sea creature.", True),
                                       ("The captain was cut off mid-", True), ("x" * 95 + " y", True),
                                       ("Pip cannot fly, sadly.", False)])
def test_nonsense_detection(text, bad):
    assert (nonsense_reason(text) is not None) is bad


def test_lines_that_cannot_fit_are_dropped_from_the_end():
    lines = [ScriptLine(character="A", text=f"Line number {i} is a fairly long sentence to say.") for i in range(8)]
    fitted = fit_lines(lines, 10.0)
    assert 1 <= len(fitted) < 8 and fitted[0].text == lines[0].text
    assert fitted[-1].end <= 10.0
    assert ParodyScript(title="t", lines=fitted)


def test_bad_arguments_are_clear(isolated_settings):
    ctx, _ = _ctx(isolated_settings)
    out = invoke("write_parody_script", {"scene": SCENE, "duration_s": 2.0}, ctx)
    assert not out.ok and "out of range" in out.error
    out = invoke("write_parody_script", {"scene": {"start": 1.0}}, ctx)
    assert not out.ok and out.error_kind == "validation"


class _Hit:
    def __init__(self, text, characters, film="The Tide Keeper"):
        self.text, self.title = text, "guide"
        self.metadata = {"characters": characters, "film": film}


class _Knowledge:
    def search(self, query, k=5, filters=None):
        return [_Hit("Scene 4: Captain Brine on the pier", "Pip, Captain Brine, Gull"),
                _Hit("Luca swims", "Luca, Alberto", film="Luca"), _Hit("notes on Giulia", "Giulia Marcovaldo", film="")]

    def add_documents(self, kind, docs):
        return 0


def test_cast_comes_from_the_knowledge_base_when_none_is_given(isolated_settings):
    from tools.parody.cast import resolve_cast

    ctx, _ = _ctx(isolated_settings)
    ctx.knowledge = _Knowledge()
    assert resolve_cast(ctx, [], "samples/the_tide_keeper.mp4", "night harbour") == ["Captain Brine", "Pip", "Gull"]
    assert resolve_cast(ctx, ["none", "string", "pip"], "x.mp4", "") == ["Pip"]
    assert resolve_cast(ctx, ["The Tide Keeper", "Gull"], "samples/the_tide_keeper.mp4", "") == ["Gull"]
    # another film's notes, or notes about no film, lend no names (Sintel's parody once voiced Luca's Giulia)
    assert resolve_cast(ctx, [], "/films/sintel_trailer.mp4", "a girl in the snow") == []


def test_a_redo_may_keep_its_own_lines_but_another_run_may_not(isolated_settings):
    def draft(call):
        return GOOD_DRAFT if call.schema_title == "ScriptDraft" else None

    ctx, _ = _ctx(isolated_settings, draft)
    args = {"scene": SCENE, "request": "parody", "characters": ["Pip", "Gull"], "duration_s": 20.0}
    first = invoke("write_parody_script", args, ctx).result
    redo = invoke("write_parody_script", {**args, "iteration": 1}, ctx).result  # the same run's next iteration
    assert first["line_sources"]["model"] == 4 and redo["line_sources"]["model"] == 4
    other, _ = _ctx(isolated_settings, draft)  # another run: the film's earlier parody spoke these lines
    again = invoke("write_parody_script", args, other).result
    assert again["line_sources"]["model"] == 0 and "Pip cannot fly." not in again["text"]
