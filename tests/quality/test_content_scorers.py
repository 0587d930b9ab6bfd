"""The content scorers on small inputs: line errors with names aside, names and places in a script,
scene fit from a timeline, request fit against scene texts, free answers, and the codes they emit."""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.core.findings import DEFAULT_BLAME, Blame, Code, Finding, findings, latest, messages
from tools.core.settings import settings_from_dict
from tools.quality.answer import named_files, score_answer
from tools.quality.burned_subtitles import TimeSpan
from tools.quality.request_fit import foreign_places, is_generic_role, mentioned_names, score_request_fit
from tools.quality.scene_fit import SceneInfo, footage_share, request_scene_words, score_scene_fit
from tools.quality.speech import line_errors

Q = settings_from_dict({}).quality
SCENES = [
    SceneInfo(index=0, start=0, end=5, description="dark night scene; a title card or credits; navy, black"),
    SceneInfo(index=1, start=5, end=15, description="bright daylight; ocean or sea under a blue sky with waves, coast"),
    SceneInfo(index=2, start=15, end=23, description="green vegetation: forest, trees, grass, woods; calm shot"),
    SceneInfo(index=3, start=23, end=32, description="dark water at night: harbour, port, boats; night town lights"),
]


@pytest.fixture(scope="module")
def embed():
    from tools.core.embeddings import get_embedder

    return get_embedder(settings_from_dict({})).encode


def test_every_code_has_a_blame_and_findings_accept_plain_words():
    step_codes = {Code.step_failed, Code.artifact_missing, Code.note}
    assert set(DEFAULT_BLAME) == set(Code) - step_codes
    assert all(isinstance(b, Blame) for b in DEFAULT_BLAME.values())
    items = findings(["the jokes are flat", {"code": "line_garbled", "message": "x", "data": {"line": 2}},
                      {"code": "no such code"}])
    assert [f.code for f in items] == [Code.note, Code.line_garbled] and items[1].blame == "voices"
    old = Finding(code=Code.frozen_picture, message="old", iteration=0)
    new = Finding(code=Code.clipping, message="new", iteration=1)
    assert latest([old, new]) == [new] and messages([old.model_dump(), new.model_dump()]) == ["new"]


@pytest.mark.parametrize("reference, heard, ok", [
    ("Watch this, everyone! Triple backflip! Pip cannot fly.", "watch this everyone triple mark flip bip can not fly", True),
    ("This is Pip. Pip has a plan.", "This is Bip from the plant.", True),
    ("Judges give it a 4.", "Judges give it a four", True),
    ("Today I conquer the ocean!", "Ocean, ancient, vast, mildly damp.", False),
    ("Stay calm. Be the wave.", "You were born on Tuesday.", False),
    ("Who stole my fish?", "", False),
])
def test_line_errors_forgive_misspelt_names_not_other_words(reference, heard, ok):
    err = line_errors(reference, heard, ["Pip"])
    assert (err["error"] <= Q.speech_max_error) is ok, err


def test_a_cut_line_matches_its_start_only():
    err = line_errors("The crowd holds its breath and waits for the final jump", "The crowd holds its")
    assert 0.0 < err["covered"] < 0.6 and err["error"] > Q.speech_max_error


def test_names_roles_and_places_in_a_script():
    assert mentioned_names("This is Zorblax Quenterby. Zorblax Quenterby has a plan.") == ["Zorblax Quenterby"]
    assert mentioned_names("Today I conquer the forest! Ocean. Ancient. Vast.") == []
    assert mentioned_names("Welcome to Portorosso, Luca!") == ["Portorosso", "Luca"]
    # a sentence opener is not part of the name that follows it (the template's "And Girl steps up")
    assert mentioned_names("And Girl steps up. And Zorblax laughs.") == ["Girl", "Zorblax"]
    assert is_generic_role("Narrator") and is_generic_role("the big bunny") and is_generic_role("A Passing Fish")
    assert not is_generic_role("The Ocean's Revenge") and not is_generic_role("Zorblax")
    own = [SCENES[2].text, "spoof the woods"]
    others = [s.text for s in SCENES if s.index != 2]
    assert foreign_places("Today I conquer the ocean! The trees wave back.", own, others) == ["ocean"]
    assert foreign_places("The trees are judging us.", own, others) == []


def test_request_fit_catches_other_scenes_words_and_made_up_names(embed):
    forest, request = SCENES[2], "give the walk through the woods a silly voice-over"
    good = [("Narrator", "Here we observe Pip among the trees of the forest."), ("Pip", "Why is the grass whispering?")]
    report = score_request_fit(good, request, forest, SCENES, ["Pip", "Captain Brine", "Gull"], Q, embed)
    assert report.passed, report.reasons
    ocean_script = [("Narrator", "Pip rides the waves of the ocean."), ("Pip", "The sea is my coast now!")]
    wrong = score_request_fit(ocean_script, request, forest, SCENES, ["Pip"], Q, embed)
    assert not wrong.passed and wrong.blame == ["script"]
    assert {f.code for f in wrong.findings} >= {Code.foreign_place}
    made_up = [("Narrator", "This is Zorblax Quenterby among the trees."), ("The Ocean's Revenge", "I am here.")]
    names = score_request_fit(made_up, request, forest, SCENES, ["Pip"], Q, embed)
    unknown = sorted(f.data["name"] for f in names.findings if f.code == Code.unknown_character)
    assert unknown == ["The Ocean's Revenge", "Zorblax Quenterby"] and not names.passed
    asked = score_request_fit([("Zorblax", "Hello trees of the forest.")], "a forest parody starring Zorblax",
                              forest, SCENES, [], Q, embed)
    assert not [f for f in asked.findings if f.code == Code.unknown_character]  # named in the request


def test_footage_share_counts_source_seconds_inside_the_scene():
    spans = [TimeSpan(kind="title", out_start=0, out_end=2, src_start=15, src_end=15),
             TimeSpan(kind="clip", out_start=2, out_end=6, src_start=15, src_end=19),
             TimeSpan(kind="freeze", out_start=6, out_end=7, src_start=19, src_end=19),
             TimeSpan(kind="clip", out_start=7, out_end=11, src_start=21, src_end=25)]
    inside, total, outside = footage_share(spans, 15, 23)
    assert total == 9 and inside == pytest.approx(4 + 1 + 2) and outside == [[21, 25]]


def test_scene_fit_blames_render_for_walking_and_find_for_the_wrong_scene(embed):
    request = "give the walk through the woods a silly voice-over"
    assert request_scene_words(request) == "walk through woods"
    inside = [TimeSpan(kind="clip", out_start=2, out_end=9, src_start=15, src_end=22)]
    assert score_scene_fit(request, SCENES[2], SCENES, inside, Q, embed).passed
    walk = [TimeSpan(kind="clip", out_start=2, out_end=26, src_start=15, src_end=39)]
    walked = score_scene_fit(request, SCENES[2], SCENES, walk, Q, embed)
    assert not walked.passed and walked.blame == ["render"] and walked.metrics["in_scene_share"] < 0.4
    # Asked for more than the scene ("the whole walk and what follows"): running on is what was asked for,
    # starting before the scene is not.
    assert score_scene_fit(request, SCENES[2], SCENES, walk, Q, embed, extend=True).metrics["in_scene_share"] == 1.0
    before = [TimeSpan(kind="clip", out_start=2, out_end=26, src_start=0, src_end=24)]
    assert score_scene_fit(request, SCENES[2], SCENES, before, Q, embed, extend=True).blame == ["render"]
    harbour = [TimeSpan(kind="clip", out_start=2, out_end=9, src_start=23, src_end=30)]
    wrong = score_scene_fit(request, SCENES[3], SCENES, harbour, Q, embed)
    found = next(f for f in wrong.findings if f.code == Code.scene_mismatch)
    assert not wrong.passed and wrong.blame == ["find"] and found.data["candidates"][0] == 2
    vague = score_scene_fit("make a parody of this film", SCENES[3], SCENES, harbour, Q, embed)
    assert vague.passed and vague.metrics["request_words"] == ""  # no scene words: any scene fits


def test_answer_scorer(embed, tmp_path: Path):
    (tmp_path / "notes.txt").write_text("tides")

    def exists(p: str) -> bool:
        return (tmp_path / p).is_file()

    request = "write short notes about the tides"
    good = score_answer(request, "I wrote short notes about the tides in notes.txt.", ["notes.txt"], exists, 2, 0, Q,
                        embed)
    assert good.passed and good.score > 0.9, good.reasons
    assert not score_answer(request, "", [], exists, 0, 0, Q, embed).passed
    off = score_answer(request, "Bananas are rich in potassium.", [], exists, 1, 0, Q, embed)
    assert not off.passed and off.findings[0].code == Code.answer_off_request
    lie = score_answer(request, "The notes about the tides are in tides_final.md.", [], exists, 1, 0, Q, embed)
    assert not lie.passed and lie.findings[0].data["files"] == ["tides_final.md"]
    broken = score_answer(request, "Notes about the tides: none.", [], exists, 3, 3, Q, embed)
    assert not broken.passed and any(f.code == Code.tool_errors for f in broken.findings)
    assert named_files("see ./runs/x/out.mp4 and img.PNG.") == ["runs/x/out.mp4", "img.PNG"]


def test_a_place_the_scenes_own_facts_show_is_never_foreign():
    """The template names "the forest" for a scene described "some green plants or trees": the place comes from
    the scene's own facts, so request_fit must not blame it (a rewrite could never remove it)."""
    own = ["evenly lit scene; some green plants or trees; dominant colours green, brown", "spoof the walk"]
    others = ["green vegetation: forest, trees, grass, nature, woods", "ocean or sea under a blue sky: waves"]
    assert foreign_places("Welcome to the forest, said nobody.", own, others) == []
    assert foreign_places("Welcome to the woods. The ocean calls.", own, others) == ["ocean"]
    # a kind shown only by another scene is still caught, whatever word the script uses for it
    assert foreign_places("A jungle of problems.", ["a sandy desert at noon"], others) == ["jungle"]
    assert foreign_places("To the harbour!", ["dark water at night: harbour, port, bay or sea at night"],
                          others) == []
