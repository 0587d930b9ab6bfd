"""`openai` backend: any OpenAI-compatible Chat Completions endpoint.

vLLM, Ollama (/v1), llama.cpp server, LM Studio and OpenAI itself. Streaming (SSE), tool calls
and structured output (response_format json_schema → json_object → prompt only: an error that names
the format or the schema steps down, whatever its status, and the finding is kept per endpoint in
agent/llm/capabilities.py) all work; errors name the setting to fix.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from pydantic import Field, PrivateAttr

from agent.llm.capabilities import STRUCTURED_MODES, EndpointCache, cache_for, lower_mode, names_format
from agent.llm.errors import LLMConfigError, LLMError
from agent.llm.http_client import ChatCompletionsClient
from agent.llm.managed import ManagedChatModel, _CallRecord
from agent.llm.messages import chunk_from_delta, message_from_wire, text_of, to_wire, usage_metadata
from agent.llm.schema import inline_refs, prepare_schema, schema_name


class OpenAIChatModel(ManagedChatModel):
    backend: str = "openai"
    base_url: str
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 60.0
    max_retries: int = 2
    retry_backoff_s: float = 0.5
    temperature: float = 0.3
    max_tokens: int = 1024
    structured_mode: str = "json_schema"
    # Where the mode an endpoint needs is kept between runs (agent/llm/capabilities.py).
    endpoint_cache: EndpointCache = Field(default_factory=lambda: EndpointCache(None), exclude=True)

    _mode_checked: bool = PrivateAttr(default=False)
    _schema_in_json_object: bool = PrivateAttr(default=True)
    _client: ChatCompletionsClient | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    # -- plumbing ----------------------------------------------------------------------------------
    @property
    def client(self) -> ChatCompletionsClient:
        with self._lock:
            if self._client is None:
                self._client = ChatCompletionsClient(
                    self.base_url, os.environ.get(self.api_key_env) or None, timeout_s=self.timeout_s,
                    max_retries=self.max_retries, backoff_s=self.retry_backoff_s)
            return self._client

    def resolved_model(self) -> str:
        """The configured model, or the first one the server lists (llama.cpp/LM Studio serve one)."""
        if self.model_name:
            return self.model_name
        data = self.client.get("models")
        models = [m.get("id") for m in data.get("data", []) if isinstance(m, dict) and m.get("id")]
        if not models:
            raise LLMConfigError(f"llm.openai.model is empty and {self.base_url}/models lists no model",
                                 "set llm.openai.model to the model name the server serves")
        self.model_name = models[0]
        return self.model_name

    def _payload(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.resolved_model(), "messages": to_wire(messages),
            "temperature": kwargs.pop("temperature", self.temperature),
            "max_tokens": kwargs.pop("max_tokens", self.max_tokens),
        }
        if stop:
            payload["stop"] = stop
        tools = kwargs.pop("tools", None)
        if tools:
            payload["tools"] = tools
            choice = kwargs.pop("tool_choice", None)
            if choice is not None:
                payload["tool_choice"] = _wire_tool_choice(choice)
        for key in ("response_format", "seed", "top_p", "presence_penalty", "frequency_penalty"):
            if key in kwargs:
                payload[key] = kwargs.pop(key)
        return payload

    @staticmethod
    def _first_choice(data: dict[str, Any], base_url: str) -> dict[str, Any]:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise LLMError(f"The LLM endpoint {base_url} returned no choices: {str(data)[:200]}",
                           "check llm.openai.base_url points at a Chat Completions API")
        return choices[0]

    # -- the three calls ---------------------------------------------------------------------------
    def _complete(self, messages: list[BaseMessage], stop: list[str] | None, rec: _CallRecord,
                  **kwargs: Any) -> AIMessage:
        data = self.client.post("chat/completions", self._payload(messages, stop, **kwargs))
        choice = self._first_choice(data, self.base_url)
        message = choice.get("message")
        if not isinstance(message, dict):
            raise LLMError(f"The LLM endpoint {self.base_url} returned a choice without a message",
                           "check the server speaks the Chat Completions protocol")
        usage = data.get("usage") or {}
        rec.usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))
        return message_from_wire(message, usage, choice.get("finish_reason"))

    def _complete_stream(self, messages: list[BaseMessage], stop: list[str] | None, rec: _CallRecord,
                         **kwargs: Any) -> Iterator[AIMessageChunk]:
        payload = self._payload(messages, stop, **kwargs)
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
        for event in self.client.stream("chat/completions", payload):
            if event.get("usage"):
                usage = event["usage"]
                rec.usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))
                yield AIMessageChunk(content="", usage_metadata=usage_metadata(usage))
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta or choice.get("finish_reason"):
                    yield chunk_from_delta(delta, choice.get("finish_reason"))

    def _starting_mode(self, rec: _CallRecord) -> str:
        """The configured mode, or the lower one this endpoint was found to need (this run or an earlier one)."""
        if not self._mode_checked:
            self._mode_checked = True
            known = self.endpoint_cache.structured_mode(self.base_url, self.resolved_model())
            if self.endpoint_cache.read(self.base_url, self.model_name).get("json_object_schema") is False:
                self._schema_in_json_object = False
            if known and STRUCTURED_MODES.index(known) > STRUCTURED_MODES.index(self.structured_mode):
                self.trace.event("llm.structured_mode", endpoint=self.base_url, model=self.model_name,
                                 configured=self.structured_mode, mode=known, source="endpoint cache")
                rec.extra["structured_fallback"] = f"{self.structured_mode}->{known} (endpoint cache)"
                self.structured_mode = known
        return self.structured_mode

    def _complete_json(self, messages: list[BaseMessage], schema: dict[str, Any], rec: _CallRecord) -> str:
        mode: str | None = self._starting_mode(rec)
        while mode is not None:
            kwargs: dict[str, Any] = {}
            if mode == "json_schema":
                kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                    "name": schema_name(schema), "schema": inline_refs(schema), "strict": False}}
            elif mode == "json_object":
                # The schema rides along: llama.cpp's servers constrain json_object to it, others ignore it.
                kwargs["response_format"] = {"type": "json_object", **(
                    {"schema": prepare_schema(schema)} if self._schema_in_json_object else {})}
            try:
                message = self._complete(messages, None, rec, **kwargs)
            except LLMError as exc:
                if mode == "json_object" and self._schema_in_json_object and names_format(exc.message):
                    self._schema_in_json_object = False  # refused with the schema: try plain JSON mode first
                    self.endpoint_cache.update(self.base_url, self.model_name, json_object_schema=False)
                    continue
                lower = lower_mode(mode)
                # The error names the response format or the schema (400, 422, or llama-cpp's 500):
                # this server lacks the mode. Step down, and keep the finding for the next calls and runs.
                if lower is None or not names_format(exc.message):
                    raise
                self._step_down(mode, lower, exc.message, rec)
                mode = lower
                continue
            rec.extra["structured_mode"] = mode
            return text_of(message.content)
        raise LLMError("no structured-output mode worked", "set llm.openai.structured_mode: none")

    def _step_down(self, mode: str, lower: str, error: str, rec: _CallRecord) -> None:
        rec.extra["structured_fallback"] = f"{mode}->{lower}"
        self.structured_mode = lower
        self.trace.event("llm.step_down", endpoint=self.base_url, model=self.model_name, **{"from": mode},
                         to=lower, error=error[:300])
        self.endpoint_cache.update(self.base_url, self.model_name, structured_mode=lower,
                                   rejected={mode: error[:300]})


def _wire_tool_choice(choice: Any) -> Any:
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        if choice == "any":
            return "required"
        return {"type": "function", "function": {"name": choice}}
    if choice is True:
        return "required"
    return choice


def create_openai_model(settings, scheduler=None, trace=None) -> OpenAIChatModel:
    cfg = settings.llm.openai
    if not cfg.base_url.startswith(("http://", "https://")):
        raise LLMConfigError(f"llm.openai.base_url must be an http(s) URL, got {cfg.base_url!r}",
                             "e.g. http://127.0.0.1:8000/v1 (vLLM) or http://127.0.0.1:11434/v1 (Ollama)")
    kwargs: dict[str, Any] = {} if trace is None else {"trace": trace}
    return OpenAIChatModel(
        base_url=cfg.base_url, model_name=cfg.model, api_key_env=cfg.api_key_env, timeout_s=cfg.timeout_s,
        max_retries=cfg.max_retries, retry_backoff_s=cfg.retry_backoff_s, temperature=cfg.temperature,
        max_tokens=cfg.max_tokens, structured_mode=cfg.structured_mode, scheduler=scheduler,
        endpoint_cache=cache_for(settings), **kwargs)
