"""The one place every backend call goes through: scheduler residency, timing and the trace.

Backends subclass `ManagedChatModel` and implement `_complete`, `_complete_stream` and
`_complete_json`; this class wraps each of them in `scheduler.use("llm")` and writes one
`llm.call` trace event (backend, model, mode, tokens, seconds, ok/error).
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field

from agent.llm.messages import coerce_messages
from tools.core.trace import NULL_TRACE


class _CallRecord:
    """Mutable token counts a backend fills in while the call runs."""

    def __init__(self) -> None:
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.extra: dict[str, Any] = {}

    def usage(self, prompt: int | None, completion: int | None) -> None:
        self.prompt_tokens, self.completion_tokens = prompt, completion


class ManagedChatModel(BaseChatModel):
    """Base of the local, openai and fake backends."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    backend: str = "base"
    model_name: str = ""
    # True when every structured answer is decoded under a JSON grammar: an answer that does not
    # parse cannot be fixed by asking again under the same grammar, so it is not retried.
    guarantees_json: bool = False
    scheduler: Any = Field(default=None, exclude=True)  # tools.core.scheduler.ResourceScheduler
    trace: Any = Field(default=NULL_TRACE, exclude=True)  # tools.core.trace.Trace

    def attach(self, scheduler: Any = None, trace: Any = None) -> ManagedChatModel:
        """Route this model's calls through a run's scheduler and trace (for a model built outside
        the run, e.g. `Agent(llm=FakeChatModel(...))`). Returns self."""
        if scheduler is not None:
            self.scheduler = scheduler
        if trace is not None:
            self.trace = trace
        return self

    # -- what backends implement --------------------------------------------------------------
    def _complete(self, messages: list[BaseMessage], stop: list[str] | None, rec: _CallRecord,
                  **kwargs: Any) -> AIMessage:
        raise NotImplementedError

    def _complete_stream(self, messages: list[BaseMessage], stop: list[str] | None, rec: _CallRecord,
                         **kwargs: Any) -> Iterator[AIMessageChunk]:
        # Backends without native streaming yield the whole answer as one chunk.
        msg = self._complete(messages, stop, rec, **kwargs)
        yield AIMessageChunk(content=msg.content, tool_call_chunks=[
            {"name": tc["name"], "args": _dumps(tc["args"]), "id": tc.get("id"), "index": i, "type": "tool_call_chunk"}
            for i, tc in enumerate(msg.tool_calls)
        ], usage_metadata=msg.usage_metadata, response_metadata=msg.response_metadata)

    def _complete_json(self, messages: list[BaseMessage], schema: dict[str, Any], rec: _CallRecord) -> str:
        raise NotImplementedError

    # -- the shared wrapper ----------------------------------------------------------------------
    @contextmanager
    def _managed(self, mode: str) -> Iterator[_CallRecord]:
        rec = _CallRecord()
        start = time.perf_counter()
        error: str | None = None
        try:
            if self.scheduler is not None:
                with self.scheduler.use("llm", reason=f"{self.backend} {mode}"):
                    yield rec
            else:
                yield rec
        except BaseException as exc:
            error = f"{type(exc).__name__}: {exc}"[:400]
            raise
        finally:
            self.trace.event(
                "llm.call", backend=self.backend, model=self.model_name, mode=mode,
                prompt_tokens=rec.prompt_tokens, completion_tokens=rec.completion_tokens,
                seconds=round(time.perf_counter() - start, 3), ok=error is None,
                **({"error": error} if error else {}), **rec.extra,
            )

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        mode = "tools" if kwargs.get("tools") else "chat"
        with self._managed(mode) as rec:
            message = self._complete(list(messages), stop, rec, **kwargs)
            if message.usage_metadata and rec.prompt_tokens is None:
                rec.usage(message.usage_metadata["input_tokens"], message.usage_metadata["output_tokens"])
        return ChatResult(generations=[ChatGeneration(message=message)],
                          llm_output={"model_name": self.model_name, "backend": self.backend})

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self._managed("stream") as rec:
            for chunk in self._complete_stream(list(messages), stop, rec, **kwargs):
                if chunk.usage_metadata and rec.prompt_tokens is None:
                    rec.usage(chunk.usage_metadata["input_tokens"], chunk.usage_metadata["output_tokens"])
                gen = ChatGenerationChunk(message=chunk)
                if run_manager and chunk.content:
                    run_manager.on_llm_new_token(str(chunk.content), chunk=gen)
                yield gen

    def invoke_json_schema(self, messages: Any, json_schema: dict[str, Any]) -> str:
        """Raw text of an answer constrained to (or at least asked for as) `json_schema`.

        tools.core.structured_output.invoke_structured calls this when present; it validates and retries.
        """
        with self._managed("json_schema") as rec:
            return self._complete_json(coerce_messages(messages), json_schema, rec)

    # -- tools -------------------------------------------------------------------------------
    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | dict | None = None, **kwargs: Any):
        """Bind tools (functions, pydantic models, langchain tools or OpenAI tool dicts)."""
        formatted = [convert_to_openai_tool(t) for t in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any):
        """Pydantic schemas go through tools.core.structured_output.invoke_structured (constrained + validated + retried)."""
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)) or include_raw:
            return super().with_structured_output(schema, include_raw=include_raw, **kwargs)
        from langchain_core.runnables import RunnableLambda

        from tools.core.structured_output import invoke_structured

        retries = int(kwargs.get("retries", 2))
        return RunnableLambda(lambda value: invoke_structured(
            self, _prompt_messages(value), schema, retries=retries, trace=self.trace,
            purpose="with_structured_output"), name=f"{self.backend}_structured_{schema.__name__}")

    @property
    def _llm_type(self) -> str:
        return f"animstudio-{self.backend}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"backend": self.backend, "model_name": self.model_name}


def _prompt_messages(value: Any) -> list[BaseMessage]:
    """A runnable's input (string, messages, or a PromptValue) as messages."""
    if hasattr(value, "to_messages"):
        return value.to_messages()
    return coerce_messages(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
