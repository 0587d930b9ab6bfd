"""`fake` backend: a scripted chat model for tests and offline demos (a real BaseChatModel).

Answers come, in this order, from: a `handler(call)` function (returning None passes), the first
matching rule (regex on the last message, the requested schema's title, a bound tool's name), then
the next scripted response. Responses may be a string (text, or raw JSON for structured calls),
a dict/list (serialised as JSON), `{"tool_calls": [{"name", "args"}]}`, an AIMessage, or an
Exception instance (raised, to simulate a failing backend). Every call is recorded in `.calls`.
"""
from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from agent.llm.errors import FakeScriptExhausted, LLMConfigError
from agent.llm.managed import ManagedChatModel, _CallRecord
from agent.llm.messages import text_of


@dataclass
class FakeCall:
    """What the model was asked: the messages, and the schema or tools when there were any."""

    messages: list[BaseMessage]
    mode: str  # chat | stream | json_schema | tools
    schema: dict[str, Any] | None = None
    tools: list[str] = field(default_factory=list)

    @property
    def last_text(self) -> str:
        return text_of(self.messages[-1].content) if self.messages else ""

    @property
    def schema_title(self) -> str | None:
        return (self.schema or {}).get("title")


class FakeRule(BaseModel):
    """Answer `response` when every given condition holds (`times` None → unlimited)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    match: str | None = None  # regex searched in the last message's text
    schema_title: str | None = None
    tool: str | None = None  # a bound tool's name
    response: Any
    times: int | None = None

    def applies(self, call: FakeCall) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.match is not None and not re.search(self.match, call.last_text, flags=re.DOTALL | re.IGNORECASE):
            return False
        if self.schema_title is not None and call.schema_title != self.schema_title:
            return False
        return self.tool is None or self.tool in call.tools


class FakeChatModel(ManagedChatModel):
    backend: str = "fake"
    model_name: str = "fake-script"
    responses: list[Any] = Field(default_factory=list)
    rules: list[FakeRule] = Field(default_factory=list)
    handler: Callable[[FakeCall], Any] | None = None

    _cursor: int = PrivateAttr(default=0)
    _calls: list[FakeCall] = PrivateAttr(default_factory=list)
    _lock: threading.RLock = PrivateAttr(default_factory=threading.RLock)  # a handler may call the model

    @property
    def calls(self) -> list[FakeCall]:
        return list(self._calls)

    @property
    def remaining(self) -> int:
        return len(self.responses) - self._cursor

    def _next(self, call: FakeCall) -> Any:
        with self._lock:
            self._calls.append(call)
            if self.handler is not None:
                answer = self.handler(call)
                if answer is not None:
                    return _raise_if_error(answer)
            for rule in self.rules:
                if rule.applies(call):
                    if rule.times is not None:
                        rule.times -= 1
                    return _raise_if_error(rule.response)
            if self._cursor >= len(self.responses):
                raise FakeScriptExhausted(
                    f"The fake LLM's script is exhausted: call {len(self._calls)} ({call.mode}) has no scripted "
                    f"answer; last message: {call.last_text[:160]!r}",
                    "add a response or a rule to the fake script (llm.fake.script)")
            answer = self.responses[self._cursor]
            self._cursor += 1
            return _raise_if_error(answer)

    def _complete(self, messages: list[BaseMessage], stop: list[str] | None, rec: _CallRecord,
                  **kwargs: Any) -> AIMessage:
        tools = [t.get("function", {}).get("name", "") for t in kwargs.get("tools") or []]
        answer = self._next(FakeCall(messages, "tools" if tools else "chat", tools=tools))
        message = _to_message(answer)
        rec.usage(_count(messages), _count([message]))
        return message

    def _complete_stream(self, messages: list[BaseMessage], stop: list[str] | None, rec: _CallRecord,
                         **kwargs: Any) -> Iterator[AIMessageChunk]:
        tools = [t.get("function", {}).get("name", "") for t in kwargs.get("tools") or []]
        message = _to_message(self._next(FakeCall(messages, "stream", tools=tools)))
        rec.usage(_count(messages), _count([message]))
        if message.tool_calls:
            yield from _chunks_of(message)
            return
        for piece in re.findall(r"\S+\s*|\s+", text_of(message.content)):
            yield AIMessageChunk(content=piece)

    def _complete_json(self, messages: list[BaseMessage], schema: dict[str, Any], rec: _CallRecord) -> str:
        answer = self._next(FakeCall(messages, "json_schema", schema=schema))
        if isinstance(answer, AIMessage):
            answer = answer.content
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        rec.usage(_count(messages), len(text.split()))
        return text


def _raise_if_error(answer: Any) -> Any:
    if isinstance(answer, BaseException):
        raise answer
    return answer


def _to_message(answer: Any) -> AIMessage:
    if isinstance(answer, AIMessage):
        return answer
    if isinstance(answer, dict) and "tool_calls" in answer:
        calls = [tool_call(name=c["name"], args=c.get("args", c.get("arguments", {})) or {},
                           id=c.get("id") or "call_" + uuid.uuid4().hex[:12]) for c in answer["tool_calls"]]
        return AIMessage(content=str(answer.get("content", "")), tool_calls=calls)
    if isinstance(answer, str):
        return AIMessage(content=answer)
    return AIMessage(content=json.dumps(answer, ensure_ascii=False))


def _chunks_of(message: AIMessage) -> Iterator[AIMessageChunk]:
    yield AIMessageChunk(content=message.content, tool_call_chunks=[
        {"name": tc["name"], "args": json.dumps(tc["args"]), "id": tc["id"], "index": i, "type": "tool_call_chunk"}
        for i, tc in enumerate(message.tool_calls)])


def _count(messages: list[BaseMessage]) -> int:
    """A word count stands in for tokens so traces of fake runs still carry sizes."""
    return sum(len(text_of(m.content).split()) for m in messages)


def load_script(path: Path) -> tuple[list[Any], list[FakeRule]]:
    """Read a fake script: a YAML/JSON list of responses or {responses: [...], rules: [...]}."""
    from tools.core.settings.loader import resolve_path

    full = resolve_path(path)
    if not full.is_file():
        raise LLMConfigError(f"llm.fake.script points at {full}, which does not exist",
                             "set llm.fake.script to a YAML file of scripted responses")
    try:
        data = yaml.safe_load(full.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LLMConfigError(f"llm.fake.script {full} is not valid YAML: {exc}", "fix the script file") from exc
    if isinstance(data, list):
        return data, []
    if isinstance(data, dict) and set(data) <= {"responses", "rules"}:
        try:
            return list(data.get("responses") or []), [FakeRule(**r) for r in data.get("rules") or []]
        except (TypeError, ValueError) as exc:
            raise LLMConfigError(f"llm.fake.script {full}: bad rule: {exc}",
                                 "rules take match, schema_title, tool, response, times") from exc
    raise LLMConfigError(f"llm.fake.script {full} must hold a list or a mapping with responses/rules",
                         "see docs/llm.md for the script format")


def create_fake_model(settings, scheduler=None, trace=None) -> FakeChatModel:
    responses, rules = load_script(settings.llm.fake.script) if settings.llm.fake.script else ([], [])
    kwargs: dict[str, Any] = {} if trace is None else {"trace": trace}
    return FakeChatModel(responses=responses, rules=rules, scheduler=scheduler, **kwargs)
