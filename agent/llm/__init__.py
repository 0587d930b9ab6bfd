"""LLM backends (docs/architecture.md, Contract 4): local (embedded GGUF), openai (any compatible
endpoint), fake (scripted).

All are langchain-core chat models sharing `ManagedChatModel`: every call acquires "llm" through
the scheduler and writes an `llm.call` trace event. Structured output goes through
`tools.core.structured_output.invoke_structured`, which uses each backend's `invoke_json_schema`.
"""
from __future__ import annotations

from typing import Any

from agent.llm.doctor import describe_llm
from agent.llm.errors import FakeScriptExhausted, LLMConfigError, LLMError
from agent.llm.fake_backend import FakeCall, FakeChatModel, FakeRule
from agent.llm.managed import ManagedChatModel

__all__ = ["FakeCall", "FakeChatModel", "FakeRule", "FakeScriptExhausted", "LLMConfigError", "LLMError",
           "ManagedChatModel", "create_chat_model", "describe_llm"]


def create_chat_model(settings, scheduler=None, trace=None) -> ManagedChatModel:
    """The chat model `settings.llm.backend` names, wired to the scheduler and the run trace.

    Raises LLMConfigError (naming the setting) when the configured model/endpoint is unusable.
    """
    backend = settings.llm.backend
    if trace is None and scheduler is not None:
        trace = getattr(scheduler, "trace", None)  # one run trace for switches and calls
    if backend == "local":
        from agent.llm.local_backend import create_local_model

        return create_local_model(settings, scheduler, trace)
    if backend == "openai":
        from agent.llm.openai_backend import create_openai_model

        return create_openai_model(settings, scheduler, trace)
    if backend == "fake":
        from agent.llm.fake_backend import create_fake_model

        return create_fake_model(settings, scheduler, trace)
    raise LLMConfigError(f"unknown llm.backend {backend!r}", "use local, openai or fake")


def __getattr__(name: str) -> Any:
    if name in ("OpenAIChatModel",):
        from agent.llm import openai_backend

        return getattr(openai_backend, name)
    if name in ("LocalLlamaChatModel",):
        from agent.llm import local_backend

        return getattr(local_backend, name)
    raise AttributeError(name)
