"""What retrieval hands the agent: evidence items with their source and score."""
from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field


class Evidence(BaseModel):
    """One retrieved passage. `trusted=False` marks web text: quoted as data, never obeyed."""

    id: str
    text: str
    source: str  # file path, URL, or run id
    kind: str = "note"  # characters | films | scenes | styles | comedy | runs | web | notice
    title: str = ""
    score: float = 0.0
    origin: Literal["knowledge", "web", "runs", "notice"] = "knowledge"
    trusted: bool = True
    metadata: dict[str, Any] = Field(default_factory=dict)

    def citation(self) -> str:
        return f"[{self.title or self.id}]({self.source})"


class Retriever(Protocol):
    def search(self, query: str, k: int = 5, filters: dict[str, Any] | None = None) -> list[Evidence]: ...


class WebSearcher(Protocol):
    def search(self, query: str, max_results: int = 5) -> list[Evidence]: ...
