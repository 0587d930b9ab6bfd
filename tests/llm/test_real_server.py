"""The openai backend against a real server: llama-cpp-python's own (`python -m llama_cpp.server`) serving the
packaged SmolLM2-135M (tests/llama_server.py, one server for the session).

Each structured_mode is exercised, and every node and tool that calls an LLM runs through the server at
least once: understand, plan (CoT, ToT, ReAct), answers (finish), the script writer, the judge and the
narration writer. Short prompts and few tokens keep each test to seconds; whether a 135M model writes
well is not asserted, only that each path reaches the server and ends in a usable result or a clear fallback.
"""
from __future__ import annotations

import pytest

from agent import Agent
from agent.llm import create_chat_model
from agent.llm.probe import probe_endpoint
from tests.agent import scripted  # noqa: F401  (registers the test tools)
from tests.agent.conftest import write_workflows
from tests.conftest import real_server_settings
from tools.core.settings import settings_from_dict
from tools.core.structured_output import StructuredOutputError, invoke_structured
from tools.core.trace import Trace, read_trace

pytestmark = pytest.mark.slow  # a real server on CPU: seconds per call


def settings_for(tmp_path, server, **openai):
    return settings_from_dict(real_server_settings(tmp_path, server.base_url, **openai))


def events(path, kind):
    return [e for e in read_trace(path) if e["kind"] == kind]


def test_chat_streaming_and_forced_tool_call(llama_server, tmp_path):
    llm = create_chat_model(settings_for(tmp_path, llama_server, max_tokens=16))
    assert llm.invoke("Say hello.").content.strip()
    chunks = list(llm.stream("Count to three."))
    assert len(chunks) > 1 and "".join(str(c.content) for c in chunks).strip()
    tool = {"type": "function", "function": {"name": "pick_scene", "description": "Pick a scene by words.",
                                             "parameters": {"type": "object", "properties": {"query": {"type": "string"}},
                                                            "required": ["query"]}}}
    reply = llm.bind_tools([tool], tool_choice="pick_scene", max_tokens=64).invoke("Find the beach scene.")
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "pick_scene"


@pytest.mark.parametrize("mode", ["json_schema", "json_object", "none"])
def test_each_structured_mode(llama_server, tmp_path, mode):
    from pydantic import BaseModel, Field

    class Mood(BaseModel):
        mood: str = Field(max_length=20)
        score: int = Field(ge=1, le=5)

    trace = Trace(tmp_path / "trace.jsonl")
    llm = create_chat_model(settings_for(tmp_path, llama_server, structured_mode=mode), None, trace)
    try:
        mood = invoke_structured(llm, ["How does a rainy day feel? Give a mood and a score."], Mood, retries=1,
                                 trace=trace)
    except StructuredOutputError:  # prompt-only: a 135M model may not keep the shape; json modes must
        assert mode == "none"
        mood = None
    calls = [e for e in events(trace.path, "llm.call") if e["mode"] == "json_schema"]
    used = {e.get("structured_mode") for e in calls}
    if mode == "json_schema":  # llama-cpp's server answers HTTP 500 to json_schema: one step down, kept
        assert mood is not None and used == {"json_object"}
        downs = events(trace.path, "llm.step_down")
        assert len(downs) == 1 and downs[0]["from"] == "json_schema" and downs[0]["to"] == "json_object"
    else:
        assert used == {mode} and not events(trace.path, "llm.step_down")
    if mode == "json_object":  # the schema rides along and llama.cpp constrains to it
        assert mood is not None and 1 <= mood.score <= 5


def test_doctor_probe_reports_what_the_server_supports(llama_server, tmp_path):
    found = probe_endpoint(llama_server.base_url)
    assert found["reachable"] and found["models"] == [llama_server.alias]
    assert found["json_schema"] is False and found["json_object"] is True  # rejected by name, then accepted
    assert found["streaming"] is True and found["tools"] is True
    assert found["tokens_per_s"] and found["tokens_per_s"] > 0 and found["structured_mode"] == "json_object"


# CoT routes with the model (the job catalogue through the server); ToT and ReAct by the rules, to stay quick.
@pytest.mark.parametrize(("strategy", "mode", "routing"),
                         [("cot", "json_schema", "model"), ("tot", "json_object", "rules"), ("react", "none", "rules")])
def test_agent_nodes_and_strategies_through_the_server(llama_server, tmp_path, monkeypatch, strategy, mode, routing):
    monkeypatch.setenv("ANIMSTUDIO_TEST_COUNTERS", str(tmp_path / "counters"))
    data = real_server_settings(tmp_path, llama_server.base_url, structured_mode=mode)
    data["agent"] = {"workflow_dirs": [str(write_workflows(tmp_path / "wf"))], "strategy": strategy,
                     "max_iterations": 1, "tot_candidates": 2, "react_max_steps": 2, "routing": routing}
    (tmp_path / "samples").mkdir(exist_ok=True)
    result = Agent(settings=settings_from_dict(data)).run("write notes about a topic: tides")
    calls = events(result.trace_path, "llm.call")
    assert calls and all(e["backend"] == "openai" for e in calls)
    nodes = [e["node"] for e in events(result.trace_path, "node.end")]
    assert {"understand", "plan"} <= set(nodes)
    assert "understand" in {e.get("purpose") for e in events(result.trace_path, "llm.structured")}
    if routing == "model":  # the job catalogue went through the server; a 135M model may pick any job (then
        # the run asks for what that job needs, or answers): only that it chose and the run ended is asserted
        assert [e["method"] for e in events(result.trace_path, "route")] == ["model"]
        assert result.status in ("passed", "failed", "needs_input", "refused")
        return
    assert "finish" in nodes and result.final_answer.strip()
    if strategy == "tot":
        assert len(events(result.trace_path, "tot.candidate")) >= 1
    if strategy == "react":  # on an OpenAI-compatible server ReAct offers the tools natively (bind_tools)
        assert "execute" in nodes and any(e["mode"] == "tools" for e in calls)
