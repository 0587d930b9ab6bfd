"""Slot resolution: the request's words win; the model refines but never blanks; past runs lend only style."""
from __future__ import annotations

from agent.planning.slots import extract_slots, resolve_slots
from workflows import all_workflows, get_workflow

PARODY = get_workflow("parody").parameters


def _resolve(request: str, model=None, past=None, names=("Pip", "Captain Brine")):
    return resolve_slots(PARODY, extract_slots(request, names), model=model or {}, past=past or {},
                         past_run="run:earlier", run_values={"film": "/films/b.mp4"}, known_names=list(names))


def test_stated_values_beat_the_model_past_runs_and_defaults() -> None:
    slots = _resolve("a sarcastic 12 second spoof of the scene with the dragon",
                     model={"scene": "the ocean scene", "tone": "deadpan", "target_duration_s": 30.0},
                     past={"tone": "over-dramatic", "target_duration_s": 45.0})
    assert slots["scene"].value == "the scene with the dragon" and slots["scene"].source == "request"
    assert "ocean" in slots["scene"].note  # the refused model value is recorded, not silently lost
    assert (slots["tone"].value, slots["tone"].source) == ("sarcastic", "request")
    assert (slots["target_duration_s"].value, slots["target_duration_s"].source) == (12.0, "request")
    assert slots["film"].source == "run" and slots["film"].value == "/films/b.mp4"


def test_a_model_may_refine_a_stated_scene_but_never_blank_or_replace_it() -> None:
    refined = _resolve("spoof the bit with the dragon", model={"scene": "the bit where the dragon burns the village"})
    assert refined["scene"].source == "model" and "dragon burns" in refined["scene"].value
    assert "the bit with the dragon" in refined["scene"].evidence
    blanked = _resolve("spoof the bit with the dragon", model={"scene": ""})
    assert blanked["scene"].value == "the bit with the dragon" and blanked["scene"].source == "request"


def test_past_runs_lend_style_only_when_the_request_is_silent() -> None:
    slots = _resolve("spoof the bit with the dragon", past={"tone": "deadpan", "target_duration_s": 20.0,
                                                            "scene": "the ocean scene", "characters": ["Pip"]})
    assert (slots["tone"].value, slots["tone"].source, slots["tone"].evidence) == ("deadpan", "past_run", "run run:earlier")
    # The length follows this scene: neither the past run nor the model sets it when the request is silent.
    assert slots["target_duration_s"].value is None and slots["target_duration_s"].source == "default"
    filled = _resolve("spoof the bit with the dragon", model={"target_duration_s": 40.0})
    assert filled["target_duration_s"].value is None and "follows the scene" in filled["target_duration_s"].note
    assert slots["scene"].value == "the bit with the dragon"
    assert slots["characters"].value == [] and slots["characters"].source == "default"


def test_without_scene_words_the_whole_request_is_the_query() -> None:
    request = "dub this with silly voices"
    slots = _resolve(request, model={"scene": "the ocean scene"})
    assert slots["scene"].value == request and slots["scene"].source == "request"
    assert "refused" in slots["scene"].note  # "ocean" appears nowhere in the request: made up


def test_names_the_model_invents_are_dropped() -> None:
    slots = _resolve("parody the harbour scene", model={"characters": ["The Ocean's Revenge", "Captain Brine"]})
    assert slots["characters"].value == ["Captain Brine"] and "Ocean's Revenge" in slots["characters"].note
    none_left = _resolve("parody the harbour scene", model={"characters": ["Mister Nobody"]})
    assert none_left["characters"].value == [] and none_left["characters"].source == "default"


def test_no_workflow_default_names_a_scene_or_a_place() -> None:
    from agent.planning.slots.extract import vocabulary

    places = {w for value in vocabulary()["glossary_it"].values() for w in value.split()} | {"scene", "harbor"}
    for wf in all_workflows().values():
        for name, param in wf.parameters.items():
            if param.slot == "scene":
                assert param.default is None, (wf.name, name)
            if isinstance(param.default, str):
                words = set(param.default.lower().split())
                assert not words & places, (wf.name, name, param.default)


def test_a_dataset_is_named_after_the_character_the_request_names() -> None:
    lora = get_workflow("movie_to_lora").parameters
    slots = resolve_slots(lora, extract_slots("turn my copy of the film into LoRA data for Captain Brine",
                                              ["Captain Brine", "Pip"]),
                          run_values={"film": "/films/b.mp4", "refs": "/refs"}, known_names=["Captain Brine"])
    assert (slots["character"].value, slots["character"].source) == ("Captain Brine", "request")
    assert (slots["name"].value, slots["name"].source) == ("captain_brine_dataset", "derived")
    # No character: the name falls back to the film's (the frames of every character); with no film either,
    # nothing is left to derive from and the value is left to the model or the user.
    unnamed = resolve_slots(lora, extract_slots("make LoRA training data from this film", []),
                            run_values={"film": "/films/b.mp4"})
    assert (unnamed["name"].value, unnamed["character"].value) == ("b_frames", None)
    nothing = resolve_slots(lora, extract_slots("make LoRA training data", []), run_values={})
    assert nothing["name"].value is None
