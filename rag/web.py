"""Web search for fresh facts: rate limited, timed out, retried a bounded number of times, cached.

`WebSearch.search` never raises: when the web is off, offline, blocked or broken it returns one
"web unavailable" notice and the run continues with local knowledge. Everything it returns is
untrusted data (trusted=False) for rag.untrusted.quote_untrusted to fence in prompts.
"""
from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import urlparse

import httpx

from rag.types import Evidence
from rag.untrusted import clean_text, html_to_text
from rag.web_backends import (
    DdgsBackend,
    HttpSearchBackend,
    RateLimited,
    SearchBackend,
    SearchBackendError,
    SearchHit,
)
from rag.web_cache import TTLCache

log = logging.getLogger("animstudio.rag.web")
_TEXT_TYPES = ("text/html", "text/plain", "application/xhtml+xml")


def web_notice(reason: str) -> Evidence:
    reason = " ".join(reason.split())
    reason = reason if len(reason) <= 240 else reason[:237] + "..."
    return Evidence(id="web-unavailable", source="web", kind="notice", origin="notice", trusted=True,
                    title="Web unavailable",
                    text=f"Web search unavailable ({reason}); continuing with local knowledge only.",
                    metadata={"reason": reason})


def _is_public_host(host: str) -> bool:
    """False for loopback/private/link-local targets: search results must not reach the LAN."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_reserved or addr.is_multicast:
            return False
    return True


class RateLimiter:
    """At most one backend call per `min_interval_s` (in this process)."""

    def __init__(self, min_interval_s: float, clock=time.monotonic, sleep=time.sleep):
        self.min_interval_s = min_interval_s
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            if now < self._next:
                self.sleep(self._next - now)
                now = self._next
            self._next = now + self.min_interval_s


class WebSearch:
    def __init__(self, backend: SearchBackend | None, cache: TTLCache | None, *, timeout_s: float = 8.0,
                 max_retries: int = 2, min_interval_s: float = 1.0, retry_backoff_s: float = 0.5,
                 max_chars_per_result: int = 1200, fetch_pages: int = 2, max_page_bytes: int = 400_000,
                 allow_private_fetch: bool = False, disabled_reason: str | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.backend = backend
        self.cache = cache
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.retry_backoff_s = retry_backoff_s
        self.max_chars = max_chars_per_result
        self.fetch_pages = fetch_pages
        self.max_page_bytes = max_page_bytes
        self.allow_private_fetch = allow_private_fetch
        self.disabled_reason = disabled_reason
        self.limiter = RateLimiter(min_interval_s)
        self._transport = transport
        self.backend_calls = 0  # observable for tests and the trace

    # -- public ----------------------------------------------------------------------------
    def search(self, query: str, max_results: int = 5) -> list[Evidence]:
        try:
            return self._search(query, max_results)
        except Exception as exc:  # never stop the graph
            log.warning("web search failed: %s", exc, exc_info=True)
            return [web_notice(f"unexpected error: {type(exc).__name__}")]

    # -- internals -------------------------------------------------------------------------
    def _search(self, query: str, max_results: int) -> list[Evidence]:
        if self.backend is None:
            return [web_notice(self.disabled_reason or "disabled in settings")]
        query = " ".join((query or "").split())[:400]
        if not query:
            return []
        max_results = max(1, min(int(max_results), 20))
        key = TTLCache.key(self.backend.name, query.casefold(), max_results, self.fetch_pages)
        cached = self.cache.get(key) if self.cache else None
        if cached is not None:
            return [Evidence.model_validate({**e, "metadata": {**e.get("metadata", {}), "cached": True}})
                    for e in cached]
        try:
            hits = self._call_backend(query, max_results)
        except SearchBackendError as exc:
            return [web_notice(str(exc))]
        evidence = [self._to_evidence(query, rank, hit, self._fetch_text(hit.url) if rank < self.fetch_pages else "")
                    for rank, hit in enumerate(hits)]
        if self.cache:
            self.cache.put(key, [e.model_dump() for e in evidence])
        return evidence

    def _call_backend(self, query: str, max_results: int) -> list[SearchHit]:
        last: SearchBackendError | None = None
        for attempt in range(self.max_retries + 1):
            self.limiter.wait()
            self.backend_calls += 1
            try:
                return self.backend.search(query, max_results, self.timeout_s)
            except SearchBackendError as exc:
                last = exc
                if not exc.retryable or attempt == self.max_retries:
                    break
                delay = self.retry_backoff_s * (2 ** attempt)
                if isinstance(exc, RateLimited) and exc.retry_after is not None:
                    delay = max(delay, exc.retry_after)
                time.sleep(min(delay, 30.0))  # bounded: a huge Retry-After must not hang the run
        assert last is not None
        raise SearchBackendError(f"{last} (after {self.backend_calls} attempt(s))")

    def _fetch_text(self, url: str) -> str:
        """Page text through httpx with a byte cap; any failure just means 'snippet only'."""
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return ""
        if not self.allow_private_fetch and not _is_public_host(parsed.hostname):
            return ""
        try:
            with httpx.Client(timeout=self.timeout_s, follow_redirects=True, max_redirects=3,
                              transport=self._transport,
                              headers={"User-Agent": "AnimationAIStudio/0.1 (research agent)"}) as client:
                with client.stream("GET", url) as resp:
                    if resp.status_code != 200:
                        return ""
                    ctype = resp.headers.get("content-type", "text/html").split(";")[0].strip().lower()
                    if ctype not in _TEXT_TYPES:
                        return ""
                    if not self.allow_private_fetch and not _is_public_host(resp.url.host):
                        return ""  # redirected into the LAN
                    body = bytearray()
                    for part in resp.iter_bytes():
                        body.extend(part)
                        if len(body) >= self.max_page_bytes:
                            break
                    raw = bytes(body[: self.max_page_bytes]).decode(resp.encoding or "utf-8", errors="replace")
        except (httpx.HTTPError, LookupError, OSError):
            return ""
        text = html_to_text(raw) if ctype != "text/plain" else clean_text(raw)
        return text

    def _to_evidence(self, query: str, rank: int, hit: SearchHit, page_text: str) -> Evidence:
        snippet = clean_text(html_to_text(hit.snippet))
        text = snippet if not page_text else f"{snippet}\n\n{page_text}" if snippet else page_text
        return Evidence(id=f"web:{TTLCache.key(hit.url)[:16]}", text=clean_text(text, self.max_chars),
                        source=hit.url, kind="web", title=clean_text(html_to_text(hit.title), 200),
                        score=round(1.0 / (rank + 1), 4), origin="web", trusted=False,
                        metadata={"rank": rank + 1, "query": query, "fetched": bool(page_text),
                                  "backend": getattr(self.backend, "name", "")})


def make_backend(settings) -> tuple[SearchBackend | None, str | None]:
    web = settings.web
    if not web.enabled or web.backend == "off":
        return None, "disabled in settings (web.enabled / web.backend)"
    if web.backend == "http" or (web.backend == "auto" and web.base_url):
        if not web.base_url:
            return None, "web.backend is 'http' but web.base_url is empty"
        try:
            return HttpSearchBackend(web.base_url), None
        except ValueError as exc:
            return None, str(exc)
    try:
        import ddgs  # noqa: F401
    except ImportError:
        return None, "the ddgs package is not installed"
    return DdgsBackend(region=web.region, safesearch=web.safesearch), None


def open_web_search(settings, **overrides: Any) -> WebSearch:
    """The configured web searcher; `overrides` replace constructor arguments (tests, CLI)."""
    from tools.core.settings.loader import resolve_path

    web = settings.web
    backend, reason = overrides.pop("backend", None), None
    if backend is None:
        backend, reason = make_backend(settings)
    cache = None
    if web.cache_ttl_s > 0:
        try:
            cache = TTLCache(resolve_path(web.cache_path), web.cache_ttl_s)
        except Exception as exc:  # an unwritable cache folder only costs repeated queries
            log.warning("web cache disabled: %s", exc)
    kwargs: dict[str, Any] = {"timeout_s": web.timeout_s, "max_retries": web.max_retries,
                                  "min_interval_s": web.min_interval_s, "retry_backoff_s": web.retry_backoff_s,
                                  "max_chars_per_result": web.max_chars_per_result, "fetch_pages": web.fetch_pages,
                                  "max_page_bytes": web.max_page_bytes, "allow_private_fetch": web.allow_private_fetch,
                                  "disabled_reason": reason}
    kwargs.update(overrides)
    return WebSearch(backend, kwargs.pop("cache", cache), **kwargs)
