"""Kinds of wording the rules read by mechanism, not by cue (issue 22, round d): time ranges said in
words, the request's language gating Italian patterns, adverbs between a coordinator and the next verb,
embedded questions with do-support, a job word that names a person. Requests in our own words."""
from __future__ import annotations

import pytest

from agent.planning.routing.deliverable import expand_contractions
from agent.planning.routing.signals import request_signals
from agent.planning.slots import extract_slots
from tests.planning.test_routing_set import route_of


@pytest.mark.parametrize("request_text, start, end", [
    ("keep seconds 4 through 12 for me", 4.0, 12.0),
    ("I want the initial nine seconds", 0.0, 9.0),
    ("from the 0:30 mark to 0:42", 30.0, 42.0),
    ("from six seconds in till fourteen seconds", 6.0, 14.0),
    ("a five-second clip that begins at 0:20", 20.0, 25.0),
    ("dal secondo tre al secondo otto", 3.0, 8.0),
])
def test_time_ranges_said_in_words(request_text, start, end):
    slots = extract_slots(request_text)
    assert (slots.value("start_s"), slots.value("end_s")) == (start, end)


def test_a_stated_time_range_makes_a_clip_by_times_whatever_noun_stands_beside_it(router):
    route = route_of(router, "I'd like the stretch from 0:10 to 0:25 as a separate file", film=True)
    assert route.jobs == ["cut_clip"] and "object:time_range" in route.matched
    # without times the same words are a scene to find
    assert route_of(router, "I'd like the rooftop scene as a separate file", film=True).jobs == ["cut_scene"]


def test_italian_question_words_do_not_apply_to_a_plainly_english_request():
    def asks(text: str) -> bool:
        return request_signals(text, extract_slots(text), film_given=False)["question"]

    assert not asks("Come up with a toast for the ship's launch")
    assert asks("Come si fa un buon doppiaggio comico")  # Italian: "come" asks how
    assert asks("Chi è il capitano")


def test_an_italian_order_with_mi_and_a_verb_is_an_order_not_a_question():
    def asks(text: str) -> bool:
        return request_signals(text, extract_slots(text), film_given=True)["question"]

    assert not asks("Mi sottotitoli la scena della pioggia?")
    assert asks("Mi dici cosa succede nella scena della pioggia?")


@pytest.mark.parametrize("request_text, jobs", [
    ("Clean harbour_set and later train a LoRA on it", ["filter_dataset", "train_lora"]),
    ("Write a riddle about anchors, after that have Gull say it", ["write_script", "voice_line"]),
    ("Scrivi un indovinello sul faro e dopo fallo dire a Pip", ["write_script", "voice_line"]),
])
def test_adverbs_between_the_coordinator_and_the_next_verb(router, request_text, jobs):
    assert route_of(router, request_text, film=False).jobs == jobs


def test_embedded_questions_take_do_support():
    assert expand_contractions("tell me what they shout in the rain scene") == \
        "tell me what do they shout in the rain scene"
    assert expand_contractions("tell me what she says at the end") == "tell me what does she say at the end"
    assert expand_contractions("tell me what it is") == "tell me what is it"  # be-inversion stays


def test_a_job_word_written_as_a_name_after_a_dative_is_a_person(router):
    route = route_of(router, "Scrivi un indovinello sul porto e fallo leggere al Narratore", film=False)
    assert route.jobs == ["write_script", "voice_line"]
    # an acronym after an article is no name ("a LoRA"), and Italian "a" is no dative in English
    assert "object:lora" in route_of(router, "Make a LoRA of Pip from this film", film=True).matched
    # lower case after a preposition it is still the narration asked for
    assert route_of(router, "put subtitles on the storm scene and add a narrator to it", film=True).jobs \
        == ["subtitle_scene"]


def test_explain_how_is_a_question_about_kinds(router):
    route = route_of(router, "explain why a LoRA needs captioned images", film=False)
    assert route.workflow == "answer_knowledge"


def test_a_plainly_english_request_does_not_meet_italian_cues(router):
    cut_scene = router.workflows["cut_scene"]
    assert router.cues(cut_scene, "keep the two files separate", english=True)[0] == 0
    assert "verb:separa" in router.cues(cut_scene, "keep the two files separate")[1]  # the mark is what gates it
    assert "separa" in cut_scene.route.italian and "separa" in cut_scene.route.verbs
    # an Italian request still meets them
    assert route_of(router, "Separa la scena della pioggia dal resto del film", film=True).jobs == ["cut_scene"]
