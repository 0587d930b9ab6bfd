"""One place for each vocabulary the planner reads: number words, emotions, recent-facts words."""
from __future__ import annotations

import inspect

from agent.planning.slots import extract_slots
from agent.planning.slots.jobs import words


def test_number_words_past_twelve_in_english_and_italian_are_read():
    assert extract_slots("cut the first twenty-two seconds").value("end_s") == 22.0
    assert extract_slots("keep thirteen seconds starting at 0:10").value("end_s") == 23.0
    assert extract_slots("taglia i primi trentotto secondi").value("end_s") == 38.0
    assert extract_slots("dal minuto 2 al minuto 3").value("start_s") == 120.0
    assert extract_slots("generate fourteen images of a kite").value("count") == 14


def test_emotion_words_name_only_emotions_the_voices_have():
    from tools.audio.voice_shaping import default_emotions

    assert set(words()["emotion_words"]) <= set(default_emotions())
    assert extract_slots("say 'hello' angrily").value("emotion") == "angry"


def test_recent_facts_have_one_vocabulary_and_the_latest_scene_is_a_place():
    import agent.nodes.understand as understand
    from agent.planning.routing.signals import is_fresh

    assert "re.compile" not in inspect.getsource(understand)  # no copy of the words in the node
    assert is_fresh("what's the latest Pixar film?") and not is_fresh("cut the latest scene out")
