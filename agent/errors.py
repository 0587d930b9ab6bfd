"""Errors the Agent API raises for unusable input (the CLI and chat turn them into one clear line)."""
from __future__ import annotations


class AgentInputError(ValueError):
    """The request or its inputs are unusable; the message says what to fix."""
