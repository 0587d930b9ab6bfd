"""The openai backend over real HTTP against a loopback Chat Completions server."""
from __future__ import annotations

import socket

import pytest
from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel

from agent.llm import LLMError, create_chat_model
from tests.llm.chat_server import chunk, completion
from tests.llm.conftest import openai_settings
from tools.core.structured_output import invoke_structured


class Shot(BaseModel):
    character: str
    seconds: float


def cut_scene(start_s: float, end_s: float) -> str:
    """Cut a scene out of the film.

    Args:
        start_s: where the cut starts
        end_s: where it ends
    """
    return ""


def test_plain_answer_sends_messages_and_records_tokens(server, scheduler, trace):
    server.actions = [{"json": completion("Luca is a sea monster.", prompt_tokens=11, completion_tokens=6)}]
    llm = create_chat_model(openai_settings(server.base_url), scheduler, trace)
    msg = llm.invoke([SystemMessage(content="be brief"), HumanMessage(content="Who is Luca?")])
    assert msg.content == "Luca is a sea monster."
    assert msg.usage_metadata["input_tokens"] == 11 and msg.usage_metadata["output_tokens"] == 6
    body = server.posts[0]["body"]
    assert body["model"] == "test-model"
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    calls = [e for e in trace.read() if e["kind"] == "llm.call"]
    assert calls[-1]["backend"] == "openai" and calls[-1]["prompt_tokens"] == 11 and calls[-1]["ok"]
    assert "llm" in scheduler.resident()


def test_streaming_yields_chunks_and_usage(server, trace):
    events = [chunk("Sil"), chunk("enzio "), chunk("Bruno!", finish_reason="stop"),
              {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}]
    server.actions = [{"sse": events}]
    llm = create_chat_model(openai_settings(server.base_url), None, trace)
    pieces = [c.content for c in llm.stream("shout")]
    assert "".join(pieces) == "Silenzio Bruno!"
    assert len([p for p in pieces if p]) == 3
    assert server.posts[0]["body"]["stream"] is True
    assert [e for e in trace.read() if e["kind"] == "llm.call"][-1]["completion_tokens"] == 3


def test_tool_calls_round_trip(server):
    call = {"id": "call_1", "type": "function", "function": {"name": "cut_scene", "arguments": '{"start_s": 1.5, "end_s": 4}'}}
    server.actions = [{"json": completion(None, tool_calls=[call], finish_reason="tool_calls")},
                      {"json": completion("Done: cut 1.5-4 s")}]
    llm = create_chat_model(openai_settings(server.base_url)).bind_tools([cut_scene])
    first = llm.invoke("cut the ocean scene")
    assert first.tool_calls == [{"name": "cut_scene", "args": {"start_s": 1.5, "end_s": 4}, "id": "call_1",
                                 "type": "tool_call"}]
    tools = server.posts[0]["body"]["tools"]
    assert tools[0]["function"]["name"] == "cut_scene"
    assert set(tools[0]["function"]["parameters"]["properties"]) == {"start_s", "end_s"}
    second = llm.invoke([HumanMessage(content="cut"), first, ToolMessage(content="ok", tool_call_id="call_1")])
    assert second.content.startswith("Done")
    sent = server.posts[1]["body"]["messages"]
    assert sent[1]["tool_calls"][0]["function"]["name"] == "cut_scene"
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "ok"}


def test_streamed_tool_call_fragments_merge(server):
    frag = lambda **kw: [{"index": 0, **kw}]
    server.actions = [{"sse": [
        chunk(tool_calls=frag(id="call_9", type="function", function={"name": "cut_scene", "arguments": ""})),
        chunk(tool_calls=frag(function={"arguments": '{"start_s": 2,'})),
        chunk(tool_calls=frag(function={"arguments": ' "end_s": 3}'}), finish_reason="tool_calls"),
    ]}]
    llm = create_chat_model(openai_settings(server.base_url)).bind_tools([cut_scene], tool_choice="cut_scene")
    merged = None
    for part in llm.stream("cut"):
        merged = part if merged is None else merged + part
    assert merged.tool_calls[0]["name"] == "cut_scene" and merged.tool_calls[0]["args"] == {"start_s": 2, "end_s": 3}
    assert server.posts[0]["body"]["tool_choice"] == {"type": "function", "function": {"name": "cut_scene"}}


def test_invalid_tool_arguments_become_invalid_tool_calls(server):
    call = {"id": "c", "type": "function", "function": {"name": "cut_scene", "arguments": "{start: oops"}}
    server.actions = [{"json": completion(None, tool_calls=[call])}]
    msg = create_chat_model(openai_settings(server.base_url)).bind_tools([cut_scene]).invoke("cut")
    assert msg.tool_calls == [] and msg.invalid_tool_calls[0]["name"] == "cut_scene"


def test_structured_output_uses_response_format_json_schema(server):
    server.actions = [{"json": completion('{"character": "Alberto", "seconds": 2.5}')}]
    llm = create_chat_model(openai_settings(server.base_url))
    shot = invoke_structured(llm, [HumanMessage(content="one shot")], Shot)
    assert shot == Shot(character="Alberto", seconds=2.5)
    fmt = server.posts[0]["body"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Shot"
    assert fmt["json_schema"]["schema"]["properties"]["character"]["type"] == "string"
    assert server.posts[0]["body"]["messages"][0]["role"] == "system"  # instruction merged up front


def test_structured_mode_steps_down_when_server_rejects_it(server, trace):
    server.actions = [{"status": 400, "json": {"error": {"message": "response_format json_schema is not supported"}}},
                      {"json": completion('{"character": "Giulia", "seconds": 1}')}]
    llm = create_chat_model(openai_settings(server.base_url), None, trace)
    assert invoke_structured(llm, ["shot"], Shot).character == "Giulia"
    fmt = server.posts[1]["body"]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"]["properties"]["seconds"]["type"] == "number"
    assert llm.structured_mode == "json_object"  # remembered for later calls
    assert [e for e in trace.read() if e["kind"] == "llm.call"][-1]["structured_fallback"] == "json_schema->json_object"
    step = [e for e in trace.read() if e["kind"] == "llm.step_down"]
    assert len(step) == 1 and step[0]["from"] == "json_schema" and step[0]["to"] == "json_object"


# llama-cpp-python's server: HTTP 500 with the pydantic error of its request model.
LLAMA_CPP_500 = {"status": 500, "json": {"error": {"message": "1 validation error:\n  {'type': 'literal_error', 'loc': "
                 "('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\"}",
                 "type": "internal_server_error"}}}


def test_a_500_that_names_the_format_steps_down_without_retrying(server, trace, tmp_path):
    server.actions = [LLAMA_CPP_500, {"json": completion('{"character": "Luca", "seconds": 2}')}]
    settings = openai_settings(server.base_url, tmp_path / "cache", max_retries=2)
    llm = create_chat_model(settings, None, trace)
    assert invoke_structured(llm, ["shot"], Shot).character == "Luca"
    assert len(server.posts) == 2  # no retry of a rejection that would repeat itself
    assert llm.structured_mode == "json_object"
    # kept per endpoint: a new model (a new run) starts in json_object without asking json_schema again
    server.actions = [{"json": completion('{"character": "Alberto", "seconds": 3}')}]
    again = create_chat_model(settings, None, trace)
    assert invoke_structured(again, ["shot"], Shot).character == "Alberto"
    assert server.posts[-1]["body"]["response_format"]["type"] == "json_object" and len(server.posts) == 3
    assert [e["source"] for e in trace.read() if e["kind"] == "llm.structured_mode"] == ["endpoint cache"]


def test_a_plain_500_is_still_retried_and_not_stepped_down(server):
    server.actions = [{"status": 500, "json": {"error": {"message": "out of memory"}}},
                      {"json": completion('{"character": "Luca", "seconds": 2}')}]
    llm = create_chat_model(openai_settings(server.base_url))
    assert invoke_structured(llm, ["shot"], Shot).character == "Luca"
    assert llm.structured_mode == "json_schema" and server.posts[1]["body"]["response_format"]["type"] == "json_schema"


def test_json_object_schema_refused_then_plain_json_object_then_prompt_only(server, trace):
    reject = {"status": 422, "json": {"detail": "response_format: extra field 'schema' not permitted"}}
    server.actions = [reject, {"status": 400, "json": {"error": {"message": "json_object is not supported"}}},
                      {"json": completion('Sure: {"character": "Ercole", "seconds": 4}')}]
    llm = create_chat_model(openai_settings(server.base_url, structured_mode="json_object"), None, trace)
    assert invoke_structured(llm, ["shot"], Shot).character == "Ercole"
    sent = [p["body"].get("response_format") for p in server.posts]
    assert sent[0]["type"] == "json_object" and "schema" in sent[0]
    assert sent[1] == {"type": "json_object"} and sent[2] is None
    assert llm.structured_mode == "none"


def test_json_object_mode(server):
    server.actions = [{"json": completion('{"character": "Luca", "seconds": 3}')}]
    llm = create_chat_model(openai_settings(server.base_url, structured_mode="json_object"))
    assert invoke_structured(llm, ["shot"], Shot).seconds == 3
    assert server.posts[0]["body"]["response_format"]["type"] == "json_object"


def test_server_errors_are_retried_then_succeed(server):
    server.actions = [{"status": 500, "json": {"error": "boom"}}, {"status": 503, "json": {}},
                      {"json": completion("recovered")}]
    assert create_chat_model(openai_settings(server.base_url)).invoke("hi").content == "recovered"
    assert len(server.posts) == 3


def test_persistent_500_gives_clear_error_after_bounded_retries(server, trace):
    server.actions = [{"status": 500, "json": {"error": {"message": "CUDA error"}}}]
    llm = create_chat_model(openai_settings(server.base_url, max_retries=2), None, trace)
    with pytest.raises(LLMError) as info:
        llm.invoke("hi")
    assert "HTTP 500" in info.value.message and "CUDA error" in info.value.message
    assert "3 attempts" in info.value.message and server.base_url in info.value.message
    assert len(server.posts) == 3
    assert [e for e in trace.read() if e["kind"] == "llm.call"][-1]["ok"] is False


def test_timeout_names_the_setting(server):
    server.actions = [{"sleep": 1.0, "json": completion("late")}]
    llm = create_chat_model(openai_settings(server.base_url, timeout_s=0.3, max_retries=0))
    with pytest.raises(LLMError) as info:
        llm.invoke("hi")
    assert "did not answer within 0.3s" in info.value.message and "llm.openai.timeout_s" in info.value.hint


@pytest.mark.parametrize("action, needle", [
    ({"raw": "<html>502 gateway</html>"}, "not JSON"),
    ({"json": {"object": "chat.completion", "choices": []}}, "no choices"),
    ({"json": {"choices": [{"index": 0}]}}, "without a message"),
])
def test_malformed_bodies_give_clear_errors(server, action, needle):
    server.actions = [action]
    with pytest.raises(LLMError, match=needle):
        create_chat_model(openai_settings(server.base_url)).invoke("hi")


def test_endpoint_down_names_base_url():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = create_chat_model(openai_settings(f"http://127.0.0.1:{port}/v1", max_retries=1))
    with pytest.raises(LLMError) as info:
        llm.invoke("hi")
    assert f"127.0.0.1:{port}" in info.value.message and "llm.openai.base_url" in info.value.hint


def test_api_key_from_env_and_401_hint(server, monkeypatch):
    monkeypatch.setenv("MY_LLM_KEY", "sk-test-123")
    server.actions = [{"status": 401, "json": {"error": {"message": "invalid api key"}}}]
    llm = create_chat_model(openai_settings(server.base_url, api_key_env="MY_LLM_KEY"))
    with pytest.raises(LLMError) as info:
        llm.invoke("hi")
    assert server.posts[0]["headers"]["Authorization"] == "Bearer sk-test-123"
    assert "llm.openai.api_key_env" in info.value.hint
    assert len(server.posts) == 1  # auth failures are not retried


def test_empty_model_is_discovered_from_models_endpoint(server):
    server.models = ["qwen2.5-7b-instruct"]
    llm = create_chat_model(openai_settings(server.base_url, model=""))
    llm.invoke("hi")
    assert server.posts[0]["body"]["model"] == "qwen2.5-7b-instruct"


def test_bad_base_url_is_a_config_error():
    with pytest.raises(LLMError, match="llm.openai.base_url"):
        create_chat_model(openai_settings("localhost:8000"))


def test_stream_is_retried_before_the_first_event(server):
    server.actions = [{"status": 502, "json": {"error": "bad gateway"}, "headers": {"Retry-After": "0"}},
                      {"sse": [chunk("back "), chunk("online", finish_reason="stop")]}]
    llm = create_chat_model(openai_settings(server.base_url))
    assert "".join(c.content for c in llm.stream("hi")) == "back online"
    assert len(server.posts) == 2


def test_async_invoke_works(server):
    import asyncio

    server.actions = [{"json": completion("async ok")}]
    llm = create_chat_model(openai_settings(server.base_url))
    assert asyncio.run(llm.ainvoke("hi")).content == "async ok"
