"""Minimal store used until the chromadb KnowledgeBase is configured: an empty knowledge base
is a legitimate state (the retrieve node then reports that it found nothing)."""
from __future__ import annotations

from typing import Any

from rag.types import Evidence


class EmptyKnowledgeBase:
    def search(self, query: str, k: int = 5, filters: dict[str, Any] | None = None) -> list[Evidence]:
        return []

    def add_documents(self, kind: str, docs: list[dict[str, Any]]) -> int:
        return 0


def open_knowledge_base(settings) -> EmptyKnowledgeBase:
    return EmptyKnowledgeBase()
