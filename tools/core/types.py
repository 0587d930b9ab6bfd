"""Shared result types of the tool contract (docs/architecture.md, Contract 1)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ArtifactKind = Literal["video", "audio", "image", "subtitles", "timeline", "text", "json", "dataset", "lora", "report",
                       "other"]


class ToolError(Exception):
    """An expected failure: a clear message for the user/LLM plus a hint on what to do."""

    def __init__(self, message: str, hint: str = "", *, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.retryable = retryable

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class Artifact(BaseModel):
    """A file a tool produced. `path` is relative to the run workspace."""

    model_config = ConfigDict(extra="forbid")
    path: str
    kind: ArtifactKind
    metadata: dict[str, Any] = Field(default_factory=dict)


class ToolResult(BaseModel):
    """Base for tool results: `artifacts` lists every file the call produced."""

    artifacts: list[Artifact] = Field(default_factory=list)

    def summary(self) -> str:
        """A short human/LLM readable line; tools override when they can say more."""
        data = self.model_dump(exclude={"artifacts"})
        text = ", ".join(f"{k}={_short(v)}" for k, v in data.items())
        if self.artifacts:
            text += (", " if text else "") + "artifacts=" + ", ".join(a.path for a in self.artifacts)
        return text[:400]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Unmet(BaseModel):
    """A model or program a tool needs that is not configured: what is missing and which setting fixes it.

    Tools declare a check returning this (or None) with `@tool(requires=...)`; the planner runs the
    checks before executing, so a run stops with one clear answer instead of failing halfway.
    """

    model_config = ConfigDict(extra="forbid")
    setting: str  # the setting to fill, e.g. "image.sdxl_model_path"; "" when it is an install, not a setting
    problem: str  # what is missing, in words
    fix: str  # what to do about it
