"""Every backend call holds "llm" through the scheduler and writes an llm.call trace event."""
from __future__ import annotations

import pytest
from pydantic import BaseModel

from agent.llm import FakeChatModel, LLMError
from tools.core.structured_output import StructuredOutputError, invoke_structured


class SimulatedSDXL:
    """A ModelHandle for the other member of the exclusive group."""

    def __init__(self) -> None:
        self.loaded, self.unloads = False, 0

    def load(self) -> None:
        self.loaded = True

    def unload(self) -> None:
        self.loaded, self.unloads = False, self.unloads + 1

    def is_loaded(self) -> bool:
        return self.loaded


class Caption(BaseModel):
    text: str
    tags: list[str]


def test_llm_is_resident_and_in_use_during_the_call_and_evicts_sdxl(scheduler, trace):
    sdxl = SimulatedSDXL()
    scheduler.register("sdxl", sdxl)
    with scheduler.use("sdxl", reason="render"):
        pass
    assert sdxl.loaded and scheduler.resident() == ["sdxl"]
    during = []
    llm = FakeChatModel(handler=lambda call: during.append((scheduler.resident(), scheduler.in_use())) or "ok",
                        scheduler=scheduler, trace=trace)
    assert llm.invoke("hi").content == "ok"
    resident, in_use = during[0]
    assert resident == ["llm"] and in_use.get("llm") == 1
    assert sdxl.unloads == 1 and not sdxl.loaded
    assert scheduler.in_use().get("llm", 0) == 0  # released after the call
    kinds = [e["kind"] for e in trace.read()]
    assert kinds.index("scheduler.acquire") < kinds.index("llm.call")
    call = [e for e in trace.read() if e["kind"] == "llm.call"][0]
    assert call["backend"] == "fake" and call["mode"] == "chat" and call["ok"] and call["prompt_tokens"] == 1


def test_stream_and_json_calls_are_managed_too(scheduler, trace):
    llm = FakeChatModel(responses=["a b c", '{"text": "t", "tags": []}'], scheduler=scheduler, trace=trace)
    assert "".join(c.content for c in llm.stream("x")) == "a b c"
    invoke_structured(llm, ["y"], Caption)
    modes = [e["mode"] for e in trace.read() if e["kind"] == "llm.call"]
    assert modes == ["stream", "json_schema"]
    assert scheduler.in_use().get("llm", 0) == 0


def test_failed_call_is_traced_and_releases_llm(scheduler, trace):
    llm = FakeChatModel(responses=[LLMError("boom")], scheduler=scheduler, trace=trace)
    with pytest.raises(LLMError):
        llm.invoke("x")
    call = [e for e in trace.read() if e["kind"] == "llm.call"][0]
    assert call["ok"] is False and "boom" in call["error"]
    assert scheduler.in_use().get("llm", 0) == 0


def test_invoke_structured_retries_with_the_validation_message(trace):
    llm = FakeChatModel(responses=['{"text": "Luca swims", "tags": "not a list"}', "no json at all",
                                   '```json\n{"text": "Luca swims", "tags": ["sea"]}\n```'])
    out = invoke_structured(llm, ["caption this"], Caption, retries=2, trace=trace, purpose="caption")
    assert out == Caption(text="Luca swims", tags=["sea"])
    second = llm.calls[1].messages
    assert second[-2].content.startswith('{"text": "Luca swims"')  # the model sees its bad answer
    assert "tags" in second[-1].content and "not valid" in second[-1].content
    third = llm.calls[2].messages
    assert "no JSON object found" in third[-1].content
    attempts = [(e["attempt"], e["ok"]) for e in trace.read() if e["kind"] == "llm.structured"]
    assert attempts == [(0, False), (1, False), (2, True)]


def test_invoke_structured_gives_up_after_the_bound():
    llm = FakeChatModel(responses=["nope", "nope", "still nope"])
    with pytest.raises(StructuredOutputError, match="Caption: no valid output after 2 attempts"):
        invoke_structured(llm, ["x"], Caption, retries=1)
    assert len(llm.calls) == 2


def test_invoke_structured_merges_instruction_into_the_system_turn():
    from langchain_core.messages import HumanMessage, SystemMessage

    llm = FakeChatModel(responses=['{"text": "t", "tags": []}'])
    invoke_structured(llm, [SystemMessage(content="You caption frames."), HumanMessage(content="go")], Caption)
    sent = llm.calls[0].messages
    assert [m.type for m in sent] == ["system", "human"]
    assert sent[0].content.startswith("You caption frames.") and '"tags"' in sent[0].content


def test_with_structured_output_uses_the_json_schema_path():
    from langchain_core.prompts import ChatPromptTemplate

    llm = FakeChatModel(responses=['{"text": "bad"', '{"text": "Luca", "tags": ["boy"]}'])
    chain = ChatPromptTemplate.from_messages([("user", "Caption {frame}")]) | llm.with_structured_output(Caption)
    assert chain.invoke({"frame": "12"}) == Caption(text="Luca", tags=["boy"])
    assert [c.mode for c in llm.calls] == ["json_schema", "json_schema"]  # retried after invalid JSON
    assert llm.calls[0].messages[-1].content == "Caption 12"


def test_factory_uses_the_scheduler_trace(scheduler, trace):
    from agent.llm import create_chat_model
    from tools.core.settings import settings_from_dict

    llm = create_chat_model(settings_from_dict({"llm": {"backend": "fake"}}), scheduler)
    assert llm.trace is trace and llm.scheduler is scheduler


def test_attach_routes_a_prebuilt_model_through_a_run(scheduler, trace):
    llm = FakeChatModel(responses=["ok"])
    assert llm.attach(scheduler, trace) is llm
    llm.invoke("x")
    assert scheduler.resident() == ["llm"] and [e["kind"] for e in trace.read()][-1] == "llm.call"
