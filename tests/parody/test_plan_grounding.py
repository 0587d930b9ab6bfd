"""Parody plans follow the user's words on any film: nothing stated is taken from a past run or a default."""
from __future__ import annotations

import shutil

import pytest

from agent import Agent
from agent.llm import FakeChatModel
from tests.parody.scripted import parody_handler
from tools.core.trace import read_trace


def ocean_minded(call):
    """A model that fills every plan with the sample film's ocean scene and a character nobody mentioned."""
    if call.schema_title and call.schema_title.endswith("_params"):
        return {"scene": "the ocean scene", "characters": ["The Ocean's Revenge"]}
    return parody_handler()(call)


@pytest.fixture
def planner(parody_settings, parody_film, tmp_path):
    """An agent whose model always answers with the ocean scene, and a past run on another film."""
    from rag.knowledge_base import open_knowledge_base
    from rag.runs import ingest_run

    # A knowledge base of its own: past runs of other tests must not be the "most similar run" here.
    settings = parody_settings(rag={"persist_dir": str(tmp_path / "chroma"), "auto_ingest": False})
    kb = open_knowledge_base(settings)
    ingest_run(kb, {"run_id": "earlier-ocean", "request": "redub the beach at sunset with a deadpan narrator",
                    "film": str(parody_film), "workflow": "parody", "quality": 0.95, "status": "passed",
                    "parameters": {"scene": "the ocean scene", "tone": "deadpan", "target_duration_s": 20.0,
                                   "characters": ["Pip"], "film": str(parody_film)}})
    other = tmp_path / "another film.mp4"
    shutil.copyfile(parody_film, other)
    return Agent(settings=settings, llm=FakeChatModel(handler=ocean_minded)), other


def test_a_second_request_on_another_film_reuses_nothing_it_states(planner) -> None:
    agent, other = planner
    preview = agent.plan("make a sarcastic 14 second spoof of the bit where the hermit shouts at the sky", film=other)
    plan = preview["plan"]
    assert plan["workflow"] == "parody"
    slots = plan["slots"]
    assert slots["scene"]["value"] == "the bit where the hermit shouts at the sky" and slots["scene"]["source"] == "request"
    assert (slots["tone"]["value"], slots["tone"]["source"]) == ("sarcastic", "request")
    assert (slots["target_duration_s"]["value"], slots["target_duration_s"]["source"]) == (14.0, "request")
    assert plan["params"]["film"] == str(other) and plan["params"]["characters"] == []
    find = next(s for s in plan["steps"] if s["id"] == "find")
    assert find["args"]["query"] == "the bit where the hermit shouts at the sky"
    events = read_trace(f"{preview['run_dir']}/trace.jsonl")
    logged = next(e for e in events if e["kind"] == "plan.slots")
    assert logged["slots"]["scene"]["source"] == "request"


def test_a_silent_request_borrows_only_style_from_the_past_run(planner) -> None:
    agent, other = planner
    plan = agent.plan("spoof the hermit shouting at the sky", film=other)["plan"]
    slots = plan["slots"]
    assert (slots["tone"]["value"], slots["tone"]["source"]) == ("deadpan", "past_run")
    assert slots["scene"]["source"] == "request" and "hermit" in slots["scene"]["value"]
    assert "ocean" not in slots["scene"]["value"] and plan["params"]["characters"] == []
    assert "Ocean's Revenge" in slots["characters"]["note"]


def test_italian_request_keeps_its_words_in_the_query(planner) -> None:
    agent, other = planner
    plan = agent.plan("rifai in versione comica la scena del porto di notte, venti secondi", film=other)["plan"]
    query = next(s for s in plan["steps"] if s["id"] == "find")["args"]["query"]
    assert query.startswith("la scena del porto di notte") and "harbour" in query and "night" in query
    assert plan["params"]["target_duration_s"] == 20.0 and plan["params"]["tone"] == "funny"
