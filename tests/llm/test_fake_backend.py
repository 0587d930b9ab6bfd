"""The fake backend: scripted answers, rules, handlers, recording, clear exhaustion."""
from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel

from agent.llm import (
    FakeChatModel,
    FakeRule,
    FakeScriptExhausted,
    LLMConfigError,
    LLMError,
    create_chat_model,
)
from tools.core.settings import settings_from_dict
from tools.core.structured_output import invoke_structured


class Intent(BaseModel):
    kind: str
    film: str


def trim(path: str) -> str:
    """Trim a clip."""
    return path


def test_responses_are_consumed_in_order_and_recorded():
    llm = FakeChatModel(responses=["first", {"kind": "parody", "film": "Luca"}, AIMessage(content="third")])
    assert llm.invoke("a").content == "first"
    assert invoke_structured(llm, [HumanMessage(content="b")], Intent) == Intent(kind="parody", film="Luca")
    assert llm.invoke("c").content == "third"
    assert [c.mode for c in llm.calls] == ["chat", "json_schema", "chat"]
    assert llm.calls[1].schema_title == "Intent" and llm.calls[2].last_text == "c"
    assert llm.remaining == 0


def test_exhausted_script_raises_clear_error():
    llm = FakeChatModel(responses=["only"])
    llm.invoke("one")
    with pytest.raises(FakeScriptExhausted, match="call 2") as info:
        llm.invoke("two")
    assert "llm.fake.script" in info.value.hint and isinstance(info.value, LLMError)


def test_rules_match_on_schema_title_text_and_tool():
    llm = FakeChatModel(rules=[
        FakeRule(schema_title="Intent", response={"kind": "edit", "film": "Coco"}),
        FakeRule(tool="trim", response={"tool_calls": [{"name": "trim", "args": {"path": "a.mp4"}}]}),
        FakeRule(match=r"\bhello\b", response="hi!", times=1),
    ])
    assert invoke_structured(llm, ["x"], Intent).film == "Coco"
    assert llm.bind_tools([trim]).invoke("go").tool_calls[0]["args"] == {"path": "a.mp4"}
    assert llm.invoke("well hello there").content == "hi!"
    with pytest.raises(FakeScriptExhausted):  # times=1 used up, no script left
        llm.invoke("hello again")


def test_handler_sees_every_call_and_can_defer():
    seen = []

    def handler(call):
        seen.append(call.mode)
        return "from handler" if "plan" in call.last_text else None

    llm = FakeChatModel(handler=handler, responses=["from script"])
    assert llm.invoke("make a plan").content == "from handler"
    assert llm.invoke("other").content == "from script"
    assert seen == ["chat", "chat"]


def test_exception_responses_are_raised():
    llm = FakeChatModel(responses=[LLMError("endpoint down", "start it")])
    with pytest.raises(LLMError, match="endpoint down"):
        llm.invoke("x")


def test_stream_splits_text_and_merges_tool_calls():
    llm = FakeChatModel(responses=["Silenzio Bruno, go!", {"tool_calls": [{"name": "trim", "args": {"path": "b"}}]}])
    pieces = [c.content for c in llm.stream("x") if c.content]
    assert len(pieces) == 3 and "".join(pieces) == "Silenzio Bruno, go!"
    merged = None
    for part in llm.bind_tools([trim]).stream("y"):
        merged = part if merged is None else merged + part
    assert merged.tool_calls[0]["name"] == "trim" and merged.tool_calls[0]["args"] == {"path": "b"}


def test_script_file_from_settings(tmp_path):
    script = tmp_path / "my script ü.yaml"
    script.write_text("responses:\n  - hello\nrules:\n  - schema_title: Intent\n    response: {kind: k, film: f}\n",
                      encoding="utf-8")
    llm = create_chat_model(settings_from_dict({"llm": {"backend": "fake", "fake": {"script": str(script)}}}))
    assert llm.invoke("x").content == "hello"
    assert invoke_structured(llm, ["y"], Intent).kind == "k"


@pytest.mark.parametrize("text, needle", [(None, "does not exist"), ("a: [", "not valid YAML"),
                                          ("just a string", "must hold a list")])
def test_bad_script_files_name_the_setting(tmp_path, text, needle):
    script = tmp_path / "s.yaml"
    if text is not None:
        script.write_text(text, encoding="utf-8")
    with pytest.raises(LLMConfigError, match=needle) as info:
        create_chat_model(settings_from_dict({"llm": {"backend": "fake", "fake": {"script": str(script)}}}))
    assert "llm.fake.script" in info.value.message


def test_grammar_constrained_backends_are_not_retried_on_non_json(tmp_path):
    """A backend that decodes under a JSON grammar and still returns no JSON would fail the same way
    again: one attempt, a clear error. Validation errors (beyond what a grammar checks) still retry."""
    from tools.core.structured_output import StructuredOutputError
    from tools.core.trace import Trace

    trace = Trace(tmp_path / "trace.jsonl")
    constrained = FakeChatModel(responses=['{"kind": "par', '{"kind": "parody", "film": "Luca"}'], guarantees_json=True)
    with pytest.raises(StructuredOutputError, match="not JSON"):
        invoke_structured(constrained, ["judge"], Intent, retries=2, trace=trace)
    assert constrained.remaining == 1 and [e["retry"] for e in trace.read()] == [False]
    unconstrained = FakeChatModel(responses=['{"kind": "par', '{"kind": "parody", "film": "Luca"}'])
    assert invoke_structured(unconstrained, ["judge"], Intent, retries=2).film == "Luca"
    invalid_then_valid = FakeChatModel(responses=[{"kind": "parody"}, {"kind": "parody", "film": "Luca"}],
                                       guarantees_json=True)
    assert invoke_structured(invalid_then_valid, ["judge"], Intent, retries=2).film == "Luca"
