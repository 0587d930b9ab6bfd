"""The comedy engine's parts: the technique catalogue, the choice and its variety, lines sized to their gaps,
the model's lines repaired and filled slot by slot, the candidate budget from the measured speed, the gate's
comedy check."""
from __future__ import annotations

import re
import time

from agent.llm import FakeChatModel
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.parody.beats import beat_timeline
from tools.parody.comedy import norm, write
from tools.parody.facts import Event, OnScreen, Said, SceneFacts
from tools.parody.model_lines import Slot, merge, shorten
from tools.parody.models import ParodyScript, ScriptDraft, ScriptLine
from tools.parody.techniques import SLOTS, catalogue, choose, technique
from tools.parody.timing import SPEECH_CPS
from tools.quality.comedy import ComedyInput, score_comedy

FIELD = SceneFacts(start=0.0, end=20.0, place="the forest", place_words={"place": "the forest", "mood": "leafy",
                   "thing": "tree", "crowd": "squirrels", "dare": "hug a tree", "bring": "map"},
                   characters=[OnScreen(id="c1", role="the grey-haired one", kind="face", look="grey hair",
                                        spans=[(0.0, 20.0)], share=0.9)],
                   said=[Said(text="Stay where you are, stranger.", start=6.0, end=7.6, speaker="voice 1")],
                   events=[Event(kind="motion_peak", start=2.5, end=2.5, strength=0.1, detail="left"),
                           Event(kind="face_to_camera", start=9.0, end=9.0, detail="the grey-haired one"),
                           Event(kind="still", start=12.0, end=14.0, strength=2.0),
                           Event(kind="loud_hit", start=16.5, end=16.5, strength=-12.0)], measured=True)
KNOWN = {"who", "Who", "action", "said", "speaker", "Speaker", "look", "place", "Place", "thing", "crowd", "mood",
         "Mood", "bring", "dare", "other"}


def test_the_catalogue_has_twenty_techniques_that_declare_their_needs():
    techs = catalogue().techniques
    assert len(techs) >= 20 and len({t.id for t in techs}) == len(techs)
    offers = {"character", "face", "look", "second", "action", "said", "still", "cut", "loud", "silence", "place"}
    for t in techs:
        assert t.needs and set(t.needs) <= offers and set(t.likes) <= offers, t.id
        assert set(t.lines) <= set(SLOTS) and len(t.lines) >= 8 and t.caption, t.id
        for phrase in [p for bank in t.lines.values() for p in bank] + t.caption:
            assert set(re.findall(r"\{(\w+)\}", phrase)) <= KNOWN, (t.id, phrase)


def test_a_technique_is_chosen_by_what_the_scene_offers_and_a_second_run_takes_another():
    talkless = {"character", "place", "action"}
    picks = {choose(talkless, [], [], i, key="k").id for i in range(12)}
    assert not picks & {"said_meant", "dubbed_mismatch", "inner_monologue", "fourth_wall", "soap_opera"}
    first = choose(FIELD.offers(), [], [], 0, key="x")
    second = choose(FIELD.offers(), [first.id], [first.id], 0, key="x")
    assert second.id != first.id


def test_lines_fill_the_gaps_sized_to_them_and_gags_land_on_beats():
    footage = 18.0
    _, gaps = beat_timeline(FIELD, footage)
    assert all(g.words == int(g.chars / 5.8) and g.chars <= (g.length - 0.1) * SPEECH_CPS for g in gaps)
    written = write(FIELD, footage, technique("nature_documentary"), [], set(), seed=3)
    lines = written.script.lines
    assert 4 <= len(lines) <= 8
    speech = sum(l.end - l.start for l in lines)
    assert speech >= 0.35 * (footage + 2.0)
    for line in lines:  # inside a gap, never over the line said in the scene
        assert any(g.start - 1e-6 <= line.start and line.end <= g.end + 1e-6 for g in gaps), line
        assert not (line.start < 7.6 and 6.0 < line.end)
    assert any("grey-haired" in l.text.lower() for l in lines) and any("stay where you are" in l.text.lower() for l in lines)
    beats = [e.start for e in FIELD.events]  # an effect near the end is pulled in by up to its length
    assert written.script.effects and all(min(abs(e.at - b) for b in beats) <= 0.5 for e in written.script.effects)


def test_two_scenes_share_at_most_one_line_even_without_memory():
    desert = FIELD.model_copy(update={"place": "the desert", "place_words": {"place": "the desert", "mood": "sandy"},
                                      "characters": [OnScreen(id="c1", role="the small red one", kind="figure",
                                                              look="red colour", spans=[(0.0, 20.0)], share=0.8)],
                                      "said": [Said(text="Where did the water go?", start=6.0, end=7.4)]})
    for tech in catalogue().techniques:
        a = write(FIELD, 18.0, tech, ["Hero"], set(), seed=1).script.lines
        b = write(desert, 18.0, tech, ["Hero"], set(), seed=1).script.lines
        assert len({norm(l.text) for l in a} & {norm(l.text) for l in b}) <= 1, tech.id


def test_the_model_line_is_shortened_split_or_filled_and_says_where_it_came_from():
    assert shorten("Behold the hermit. He guards the pass. Nobody asked him to.", 40) == (
        "Behold the hermit. He guards the pass.", "Nobody asked him to.")
    # A cut inside a sentence never ends on a word that announces the next one.
    assert shorten("Pip has a plan for the whole harbour.", 24) == ("Pip has a plan.", "for the whole harbour.")
    assert shorten("Stand back. I am a professional.", 22) == ("Stand back.", "I am a professional.")
    assert shorten("He is not a sailor at all.", 14) == ("", "He is not a sailor at all.")
    engine = ParodyScript(title="T", lines=[ScriptLine(character="Narrator", text=f"Engine line {i}.", start=s, end=s + 1.2)
                                            for i, s in enumerate((0.5, 4.0, 8.0))])
    slots = [Slot(start=s, end=s + 3.0, room=40, kind="place", hint="", speaker="Narrator", lines=[i])
             for i, s in enumerate((0.5, 4.0, 8.0))]
    draft = ScriptDraft(title="Pass", lines=[
        {"slot": 1, "character": "Narrator", "text": "Behold the hermit. He guards the pass. Nobody asked him to."},
        {"slot": 3, "character": "x", "text": "!!!! ???? 1234 5678"}])
    merged, problems = merge(engine, slots, draft, {"narrator": "Narrator"}, 12.0)
    got = [(l.source, l.text) for l in merged.lines]
    assert got == [("model_repaired", "Behold the hermit. He guards the pass."),
                   ("model_repaired", "Nobody asked him to."), ("engine", "Engine line 2.")]
    assert any("shortened" in p for p in problems) and any("slot 3" in p for p in problems)
    assert all(l.end - l.start <= 3.0 for l in merged.lines)
    # A speaker label the model wrote into the text is the line's speaker, not words to say or subtitle.
    labelled = ScriptDraft(title="Pass", lines=[{"slot": 2, "character": "Narrator", "text": "NARRATOR: The hermit naps again."}])
    merged, _ = merge(engine, slots, labelled, {"narrator": "Narrator"}, 12.0)
    assert [l.text for l in merged.lines if l.source == "model"] == ["The hermit naps again."]
    # A line the model repeats is said once; its second slot keeps the engine's line.
    twice = ScriptDraft(title="Pass", lines=[{"slot": 1, "character": "Narrator", "text": "Hey, mate! What is up?"},
                                             {"slot": 2, "character": "Narrator", "text": "Hey, mate! What is up?"}])
    merged, problems = merge(engine, slots, twice, {"narrator": "Narrator"}, 12.0)
    assert [(l.source, l.text) for l in merged.lines][:2] == [("model", "Hey, mate! What is up?"), ("engine", "Engine line 1.")]
    assert any("said already" in p for p in problems)
    # An engine line the model already said (its punctuation aside) is not said again in the slot it fills.
    echoed = ScriptDraft(title="Pass", lines=[{"slot": 1, "character": "Narrator", "text": "engine line 1"}])
    merged, problems = merge(engine, slots, echoed, {"narrator": "Narrator"}, 12.0)
    assert [(l.source, l.text) for l in merged.lines] == [("model", "engine line 1"), ("engine", "Engine line 2.")]
    assert any("engine's line repeats" in p for p in problems)
    # Two long lines that shorten to the same opening are one line.
    same_head = ScriptDraft(title="Pass", lines=[
        {"slot": 1, "character": "Narrator", "text": "The dragon country. It is cold there and nobody likes it."},
        {"slot": 2, "character": "Narrator", "text": "The dragon country. Again, it is very cold and dark."}])
    merged, problems = merge(engine, slots, same_head, {"narrator": "Narrator"}, 12.0)
    assert [l.text for l in merged.lines].count("The dragon country.") == 1, merged.lines
    assert any("already said" in p for p in problems)


def test_a_line_numbered_for_a_slot_that_does_not_exist_goes_to_the_nearest_empty_one():
    engine = ParodyScript(title="T", lines=[ScriptLine(character="Narrator", text=f"Engine line {i}.", start=s, end=s + 1.2)
                                            for i, s in enumerate((0.5, 4.0, 8.0))])
    slots = [Slot(start=s, end=s + 3.0, room=40, kind="place", hint="", speaker="Narrator", lines=[i])
             for i, s in enumerate((0.5, 4.0, 8.0))]
    miscounted = ScriptDraft(title="T", lines=[{"slot": 1, "character": "Narrator", "text": "The hermit naps again."},
                                               {"slot": 2, "character": "Narrator", "text": "Still napping, folks."},
                                               {"slot": 4, "character": "Narrator", "text": "And scene, he wakes."}])
    merged, problems = merge(engine, slots, miscounted, {"narrator": "Narrator"}, 12.0)
    assert [(l.source, l.text) for l in merged.lines] == [
        ("model", "The hermit naps again."), ("model", "Still napping, folks."), ("model_repaired", "And scene, he wakes.")]
    assert merged.lines[2].start == 8.0 and any("went to the empty slot 3" in p for p in problems)


def test_a_line_a_little_too_long_runs_on_into_the_room_the_next_slot_leaves():
    # Two 2-second slots of one stretch of footage, then the film's own dialogue, then a last slot.
    engine = ParodyScript(title="T", lines=[ScriptLine(character="Narrator", text=t, start=s, end=s + 1.2)
                                            for t, s in (("Let me explain.", 0.5), ("The night.", 2.77), ("Goodbye.", 9.0))])
    slots = [Slot(start=0.5, end=2.38, room=24, kind="open", hint="", speaker="Narrator", lines=[0]),
             Slot(start=2.77, end=4.65, room=24, kind="look", hint="", speaker="Narrator", lines=[1]),
             Slot(start=9.0, end=10.9, room=24, kind="close", hint="", speaker="Narrator", lines=[2])]
    line = "I am searching for someone here."  # 32 characters: 2.3 s in a 1.9 s slot
    draft = ScriptDraft(title="T", lines=[{"slot": 1, "character": "Narrator", "text": line},
                                          {"slot": 2, "character": "Narrator", "text": "Still night, folks."}])
    merged, problems = merge(engine, slots, draft, {"narrator": "Narrator"}, 12.0)
    first, second = merged.lines[:2]
    assert (first.source, first.text) == ("model", line) and first.end > slots[0].end  # kept whole, re-timed
    assert second.text == "Still night, folks." and second.start >= first.end + 0.29 and second.end <= slots[1].end
    assert not any("too long" in p for p in problems)
    # With the next slot's lines needing all of it (the engine's too), it does not run on: it is shortened.
    full = engine.model_copy(update={"lines": [engine.lines[0], engine.lines[1].model_copy(
        update={"text": "The night is dark and full of owls."}), engine.lines[2]]})
    merged, problems = merge(full, slots, ScriptDraft(title="T", lines=[{"slot": 1, "character": "Narrator", "text": line}]),
                             {"narrator": "Narrator"}, 12.0)
    assert (merged.lines[0].source, merged.lines[0].text) == ("model_repaired", "I am searching for someone.")
    assert merged.lines[0].end <= 2.47 and any("shortened" in p and "searching" in p for p in problems)
    assert merged.lines[1].start == 2.77  # the engine's next line keeps its time
    # Before the film's own dialogue (a wide pause) a line never runs on.
    draft3 = ScriptDraft(title="T", lines=[{"slot": 2, "character": "Narrator", "text": "The night is dark, isn't it?!"}])
    merged, _ = merge(engine, slots, draft3, {"narrator": "Narrator"}, 12.0)
    assert all(l.end <= 4.65 + 1e-6 for l in merged.lines if l.start < 5)


def test_the_candidate_count_follows_the_measured_speed(isolated_settings):
    def slow(call):
        if call.schema_title == "ScriptDraft":
            time.sleep(0.6)
            return {"title": "Slow", "lines": [{"character": "Narrator", "text": "The forest waits for nobody."}]}
        return None

    ctx = make_context(isolated_settings, llm=FakeChatModel(handler=slow))
    scene = {"start": 0.0, "end": 10.0, "description": "forest, trees"}
    res = invoke("write_parody_script", {"scene": scene, "candidates": 5, "time_budget_s": 1.0}, ctx).result
    assert 1 <= len([c for c in res["candidates"] if c["source"] == "llm"]) < 5
    assert res["model_speed"]["tokens_per_s"] > 0 and "tokens/s" in res["why"]
    assert res["script"]["lines"][0]["source"] in ("model", "model_repaired")


def test_the_comedy_check_names_what_is_missing():
    data = ComedyInput(facts={"place": ["forest"], "look": ["grey hair"], "said": ["Stay where you are, stranger."]},
                       beats=[(9.0, "motion_peak")], length=14.0, previous=["Nice grey hair."])
    good = [("Welcome to the forest.", 2.5, 4.5), ('"Stay where you are" said the tree.', 5.0, 7.5),
            ("Nice hat.", 8.0, 11.0), ("What grey hair.", 11.5, 13.5)]
    ok = score_comedy(good, data)
    assert ok.passed and ok.metrics["fact_share"] == 0.75 and ok.metrics["speech_share"] > 0.35
    bad = [("Hello there.", 2.5, 3.7), ("Okay then.", 4.0, 5.0), ("Nice grey hair.", 12.0, 13.2)]
    report = score_comedy(bad, data)
    codes = {f.code.value for f in report.findings}
    assert codes == {"comedy_off_screen", "comedy_thin_speech", "comedy_beat_missed", "comedy_repeated"}
    assert not report.passed and report.blame == ["script"]
    # Lines that only reword an earlier line of the same parody (as the 135M model wrote on Sintel) are echoes.
    echo = [("Welcome to the grey forest.", 2.5, 4.5), ("The forest.", 5.0, 7.0), ("A grey forest, welcome!", 7.5, 9.5),
            ("The forest has one hair.", 10.0, 13.0)]
    report = score_comedy(echo, data)
    assert [f.data["lines"] for f in report.findings if f.code.value == "comedy_echo"] == [
        ["The forest.", "A grey forest, welcome!"]]
    assert report.metrics["parts"]["fresh"] == 0.5 and not report.passed


def test_the_gate_says_funniness_was_not_judged_without_a_judge(isolated_settings):
    from tools.quality.av import LineWindow
    from tools.quality.evaluate import SceneContext, evaluate

    ctx = make_context(isolated_settings)
    data = ComedyInput(facts={"place": ["forest"]}, length=6.0)
    report = evaluate(ctx, lines=[LineWindow(text="Welcome to the forest.", start=0.5, end=2.5, speaker="Narrator")],
                      scene=SceneContext(comedy=data))
    comedy = next(r for r in report.reports if r.scorer == "comedy")
    assert not comedy.skipped and comedy.metrics["funniness"] is None
    assert any(r.startswith("funniness was not judged") for r in comedy.reasons)


def test_the_gate_says_funniness_was_not_judged_when_the_judge_fails_its_joke_controls(isolated_settings):
    from tools.quality.av import LineWindow
    from tools.quality.evaluate import SceneContext, evaluate

    settings = isolated_settings.model_copy(update={"llm": isolated_settings.llm.model_copy(update={"backend": "fake"})})
    same = FakeChatModel(handler=lambda call: {"topic": "forest", "verdict": "in this scene", "technique": "sarcasm"})
    ctx = make_context(settings, llm=same)
    data = ComedyInput(facts={"place": ["forest"]}, length=6.0)
    report = evaluate(ctx, lines=[LineWindow(text="Welcome to the forest.", start=0.5, end=2.5, speaker="Narrator")],
                      scene=SceneContext(comedy=data, facts=["the place: the forest"]))
    script = next(r for r in report.reports if r.scorer == "script")
    assert script.metrics["unscored"] == ["joke"] and script.score == 1.0  # the forest line is about the scene
    comedy = next(r for r in report.reports if r.scorer == "comedy")
    assert comedy.metrics["funniness"] is None
    assert any("planted joke control lines wrong" in r for r in comedy.reasons)
