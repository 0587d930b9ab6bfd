"""The terminal's question prompt: a slip is asked again without touching the run, a chat command leaves the
question waiting, a number is a value where the question takes numbers."""
from __future__ import annotations

import pytest
from rich.console import Console

from agent import Agent
from agent.cli.question_prompt import answer_until_done
from tests.planning.asking_world import asking_world


@pytest.fixture(scope="module")
def agent_and_film(tmp_path_factory):
    from tools.core.settings import settings_from_dict

    data, film = asking_world(tmp_path_factory.mktemp("prompt"), "short.mp4")
    return Agent(settings=settings_from_dict(data)), film


def _replies(*texts):
    it = iter(texts)
    return lambda prompt: next(it)


def test_a_wrong_number_and_a_missing_folder_are_asked_again_and_a_command_leaves_it_waiting(agent_and_film):
    agent, film = agent_and_film
    paused = agent.run("make LoRA pictures of the lighthouse keeper from this film", film=film, job="movie_to_lora")
    assert paused.question["kind"] == "refs" and len(paused.question["options"]) == 1
    console = Console(record=True, width=160)
    result = answer_until_done(agent, paused, console, _replies("2", "no such folder here", "/quit"))
    shown = console.export_text()
    assert "there is no option 2: pick 1–1" in shown and "not found" in shown and "empty answer leaves" in shown
    assert result.status == "needs_input" and result.run_id == paused.run_id  # still waiting, nothing lost
    done = answer_until_done(agent, result, Console(record=True), _replies("1"))
    assert done.status in ("passed", "done") and [s["id"] for s in done.plan["steps"]] == ["extract", "filter"]


def test_a_number_is_an_answer_where_the_question_takes_a_time(agent_and_film):
    agent, film = agent_and_film
    paused = agent.run("cut a clip from second 2 onwards", film=film, job="cut_clip")
    assert paused.question["kind"] == "time"
    done = answer_until_done(agent, paused, Console(record=True), _replies("5"))
    assert done.status in ("passed", "done"), done.final_answer
