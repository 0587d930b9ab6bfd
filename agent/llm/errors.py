"""Errors of the LLM backends.

`LLMError` is a `ToolError` so a tool that calls `ctx.llm` (captioner, script writer, judge)
surfaces the backend's clear message and hint through the registry instead of a traceback.
"""
from __future__ import annotations

from tools.core.types import ToolError


class LLMError(ToolError):
    """An LLM backend failed in an expected way (endpoint down, timeout, bad answer, missing model)."""


class LLMConfigError(LLMError):
    """The settings point at something that does not exist; the message names the setting."""


class FakeScriptExhausted(LLMError):
    """The fake backend was called more times than its script has answers."""
