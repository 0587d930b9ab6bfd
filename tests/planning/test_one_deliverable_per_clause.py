"""Each clause that asks for something is a deliverable of its own: two questions joined by "and", a
causative clause ("… e falla dire a Gull"), samples asked for besides the LoRA that makes them. A later
job that needs what an earlier one makes (the dataset it trains) takes it instead of asking. Requests in
our own words; the plans are built by the real planner with the scripted model."""
from __future__ import annotations

import pytest

from agent import Agent
from agent.llm import FakeChatModel
from tests.agent.scripted import handler_for
from tests.planning.cases import DATASET
from tools.core.settings import settings_from_dict


@pytest.fixture(scope="module")
def agent(planning_settings_dict):
    return Agent(settings=settings_from_dict(planning_settings_dict), llm=FakeChatModel(handler=handler_for()))


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    from tools.media.sample_film import make_sample_film

    return str(make_sample_film(tmp_path_factory.mktemp("film") / "short.mp4", duration_s=5.0, width=160, height=90))


def test_samples_asked_for_besides_the_lora_are_a_job_of_their_own_on_the_dataset_it_makes(agent, world, film):
    preview = agent.plan("make a LoRA of Pip from this film and then show me a few samples of it",
                         film=film, inputs=[world["refs"]])
    assert preview["question"] is None, preview["question"]
    plan = preview["plan"]
    assert plan["jobs"] == ["movie_to_lora", "sample_lora"]
    samples = next(s for s in plan["steps"] if s["id"] == "sample_lora_samples")
    # the dataset does not exist yet: the sampling reads the one the training step makes, not a question
    assert samples["args"]["name"] == "${steps.train.dataset}" and "train" in samples["depends_on"]
    assert plan["slots"]["sample_lora"]["name"]["source"] == "derived"


def test_the_same_kind_of_deliverable_twice_is_one_job(agent, world, film):
    # building the dataset and training on it is what the LoRA job does: one job, not two
    preview = agent.plan("build a dataset of Pip from this movie and train on it", film=film,
                         inputs=[world["refs"]])
    assert preview["plan"]["jobs"] in ([], None, ["movie_to_lora"]) and preview["plan"]["workflow"] == "movie_to_lora"


def test_a_named_dataset_wins_over_the_one_an_earlier_job_makes(agent):
    preview = agent.plan(f"train a LoRA on {DATASET} and then sample it")
    assert preview["question"] is None, preview["question"]
    plan = preview["plan"]
    assert plan["jobs"] == ["train_lora", "sample_lora"]
    samples = next(s for s in plan["steps"] if s["id"] == "sample_lora_samples")
    assert samples["args"]["name"] == DATASET and samples["args"]["character"] is None  # it names no character


@pytest.mark.parametrize("request_text, jobs", [
    ("which scene is the loudest, and what's the resolution?", ["analyse_film", "film_facts"]),
    ("In the rooftop scene, what happens and what is said?", ["describe_scene", "what_is_said"]),
    ("quante scene ci sono e quanto dura il video?", ["analyse_film", "film_facts"]),
])
def test_two_questions_joined_by_and_are_both_answered(agent, request_text, jobs, film):
    preview = agent.plan(request_text, film=film)
    assert preview["question"] is None and preview["plan"]["jobs"] == jobs, preview["plan"].get("jobs")


def test_one_question_about_two_things_of_one_job_stays_one_job(agent, film):
    preview = agent.plan("which scene is the darkest and which one is the longest?", film=film)
    plan = preview["plan"]
    assert plan["workflow"] == "analyse_film" and (plan.get("jobs") or ["analyse_film"]) == ["analyse_film"]
    assert set(plan["steps"][0]["args"]["aspects"]) == {"darkest", "longest"}


def test_a_causative_clause_in_italian_voices_the_written_text(agent):
    preview = agent.plan("scrivi una poesia sul vento e falla recitare a Luca")
    assert preview["question"] is None, preview["question"]
    plan = preview["plan"]
    assert plan["jobs"] == ["write_script", "voice_line"]
    speak = plan["steps"][-1]["args"]
    assert speak["text"] == "${steps.write.text}" and speak["voice"] == "Luca"


@pytest.mark.parametrize("request_text", [
    "what makes a good voice line memorable?",
    "how does a LoRA learn what a character looks like?",
    "cosa rende divertente un doppiaggio comico?",
])
def test_a_question_about_a_kind_of_thing_is_answered_not_made(agent, request_text):
    preview = agent.plan(request_text)
    assert preview["question"] is None and preview["intent"]["workflow"] == "answer_knowledge", preview["intent"]


def test_a_question_about_one_thing_of_the_film_is_still_its_job(agent, film):
    # "an audio track" is said to exist or not: the film's own facts, not a kind of thing
    preview = agent.plan("does this clip have an audio track?", film=film)
    assert preview["intent"]["workflow"] == "film_facts"
