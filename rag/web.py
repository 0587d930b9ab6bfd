"""Web search interface; the ddgs-backed searcher replaces the offline one."""
from __future__ import annotations

from rag.types import Evidence


class OfflineWebSearch:
    def search(self, query: str, max_results: int = 5) -> list[Evidence]:
        return [Evidence(id="web-unavailable", text="Web search is not available in this build; using local knowledge.",
                         source="web", kind="notice", origin="notice")]


def open_web_search(settings) -> OfflineWebSearch:
    return OfflineWebSearch()
