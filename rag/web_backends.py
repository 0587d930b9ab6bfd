"""Search backends: ddgs for real use, a small JSON-over-HTTP API for self-hosted/test servers.

Both raise the same three errors so the searcher's retry policy does not care which is used.
"""
from __future__ import annotations

from typing import Protocol

import httpx
from pydantic import BaseModel, ValidationError


class SearchHit(BaseModel):
    title: str = ""
    url: str
    snippet: str = ""


class SearchBackendError(Exception):
    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class RateLimited(SearchBackendError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message, retryable=True)
        self.retry_after = retry_after


class SearchTimeout(SearchBackendError):
    def __init__(self, message: str):
        super().__init__(message, retryable=True)


class SearchBackend(Protocol):
    name: str

    def search(self, query: str, max_results: int, timeout_s: float) -> list[SearchHit]: ...


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class HttpSearchBackend:
    """GET {base_url}/search?q=...&max_results=N → {"results": [{"title", "url", "snippet"}]}.

    Use it for a self-hosted search proxy (e.g. a SearXNG adapter) or a loopback test server.
    """

    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None):
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"web.base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.name = f"http:{self.base_url}"
        self._transport = transport

    def search(self, query: str, max_results: int, timeout_s: float) -> list[SearchHit]:
        try:
            with httpx.Client(timeout=timeout_s, transport=self._transport) as client:
                resp = client.get(f"{self.base_url}/search", params={"q": query, "max_results": max_results})
        except httpx.TimeoutException as exc:
            raise SearchTimeout(f"search endpoint timed out after {timeout_s}s") from exc
        except httpx.HTTPError as exc:
            raise SearchBackendError(f"search endpoint unreachable: {exc}", retryable=True) from exc
        if resp.status_code == 429:
            raise RateLimited("search endpoint is rate limiting (HTTP 429)", _retry_after(resp.headers.get("retry-after")))
        if resp.status_code >= 500:
            raise SearchBackendError(f"search endpoint error HTTP {resp.status_code}", retryable=True)
        if resp.status_code != 200:
            raise SearchBackendError(f"search endpoint refused the query: HTTP {resp.status_code}")
        try:
            data = resp.json()
            rows = data["results"] if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise ValueError("no 'results' list")
            return [SearchHit.model_validate(r) for r in rows][:max_results]
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise SearchBackendError(f"search endpoint sent an unreadable answer ({type(exc).__name__})") from exc


class DdgsBackend:
    """The ddgs metasearch library (successor of duckduckgo-search)."""

    name = "ddgs"

    def __init__(self, region: str = "us-en", safesearch: str = "moderate"):
        self.region = region
        self.safesearch = safesearch

    def search(self, query: str, max_results: int, timeout_s: float) -> list[SearchHit]:
        try:
            from ddgs import DDGS
            from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException
        except ImportError as exc:
            raise SearchBackendError("the ddgs package is not installed (pip install ddgs)") from exc
        try:
            rows = DDGS(timeout=int(max(1, timeout_s))).text(query, region=self.region, safesearch=self.safesearch,
                                                              max_results=max_results)
        except RatelimitException as exc:
            raise RateLimited(f"ddgs rate limited: {exc}") from exc
        except TimeoutException as exc:
            raise SearchTimeout(f"ddgs timed out: {exc}") from exc
        except DDGSException as exc:
            # ddgs raises DDGSException("No results found.") for empty answers as well as failures.
            if "no results" in str(exc).lower():
                return []
            raise SearchBackendError(f"ddgs failed: {exc}", retryable=True) from exc
        hits = []
        for row in rows or []:
            url = row.get("href") or row.get("url")
            if url:
                hits.append(SearchHit(title=row.get("title", ""), url=url, snippet=row.get("body", "")))
        return hits[:max_results]
