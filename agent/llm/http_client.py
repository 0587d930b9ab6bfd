"""A small Chat Completions HTTP client with bounded retries and errors that say what to fix.

Why not the openai SDK: its errors name neither our settings nor the endpoint, and local
servers (llama.cpp, Ollama, LM Studio, vLLM) differ in small ways we want to absorb here.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from agent.llm.capabilities import names_format
from agent.llm.errors import LLMError

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
MAX_BACKOFF_S = 8.0


class ChatCompletionsClient:
    def __init__(self, base_url: str, api_key: str | None, *, timeout_s: float = 60.0, max_retries: int = 2,
                 backoff_s: float = 0.5, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.backoff_s = backoff_s
        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            headers=headers, transport=transport,
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)),
        )

    def close(self) -> None:
        self._http.close()

    # -- public ------------------------------------------------------------------------------------
    def get(self, path: str) -> dict[str, Any]:
        return self._with_retries(lambda: self._json(self._http.get(self._url(path))), path)

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self._with_retries(lambda: self._json(self._http.post(self._url(path), json=payload)), path)

    def stream(self, path: str, payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Server-sent events of a streamed completion. Retries only before the first event."""
        attempt = 0
        while True:
            received, retry_after = False, None
            try:
                with self._http.stream("POST", self._url(path), json=payload) as resp:
                    if resp.status_code >= 400:
                        resp.read()
                        self._raise_status(resp)
                    for data in _sse_data(resp.iter_lines()):
                        if data == "[DONE]":
                            return
                        received = True
                        yield self._parse(data)
                return
            except _RetryableStatus as exc:
                if attempt >= self.max_retries:
                    exc.error.message += f" (after {attempt + 1} attempts)"
                    raise exc.error from None
                retry_after = exc.retry_after
            except httpx.HTTPError as exc:
                err = self._transport_error(exc)
                if received or attempt >= self.max_retries:
                    raise err from exc
            self._sleep(attempt, retry_after)
            attempt += 1

    # -- internals ---------------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _with_retries(self, call, path: str) -> dict[str, Any]:
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                return call()
            except _RetryableStatus as exc:
                last: LLMError = exc.error
                retry_after = exc.retry_after
            except httpx.HTTPError as exc:
                last = self._transport_error(exc)
                last.__cause__ = exc
            if attempt >= self.max_retries:
                if attempt:
                    last.message += f" (after {attempt + 1} attempts)"
                raise last
            self._sleep(attempt, retry_after)
            attempt += 1

    def _sleep(self, attempt: int, retry_after: float | None) -> None:
        delay = self.backoff_s * (2 ** attempt)
        if retry_after is not None:
            delay = max(delay, retry_after)
        time.sleep(min(delay, MAX_BACKOFF_S))

    def _json(self, resp: httpx.Response) -> dict[str, Any]:
        if resp.status_code >= 400:
            self._raise_status(resp)
        return self._parse(resp.text)

    def _parse(self, text: str) -> dict[str, Any]:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise LLMError(
                f"The LLM endpoint {self.base_url} returned a body that is not JSON: {text[:200]!r}",
                "check that llm.openai.base_url points at an OpenAI-compatible API (it usually ends in /v1)",
            ) from None
        if not isinstance(data, dict):
            raise LLMError(f"The LLM endpoint {self.base_url} returned JSON that is not an object: {text[:200]!r}",
                           "check llm.openai.base_url")
        if "error" in data and "choices" not in data and "data" not in data:
            raise LLMError(f"The LLM endpoint {self.base_url} reported an error: {_error_text(data)}",
                           "see the server log", retryable=False)
        return data

    def _raise_status(self, resp: httpx.Response) -> None:
        status, detail = resp.status_code, _error_text(_safe_json(resp.text)) or resp.text[:300]
        where = f"The LLM endpoint {self.base_url} answered HTTP {status}: {detail}"
        if status in (401, 403):
            raise LLMError(where, "set the API key in the environment variable named by llm.openai.api_key_env")
        if status == 404:
            raise LLMError(where, "check llm.openai.base_url (usually ends in /v1) and llm.openai.model "
                                  "(the model name the server serves)")
        if status >= 400 and names_format(detail):
            # A rejected response_format/schema fails the same way every time, whatever the status
            # (llama-cpp-python's server answers 500): no retry; the backend steps down instead.
            raise LLMError(where, "the server rejects this structured-output mode; "
                                  "set llm.openai.structured_mode to json_object or none", retryable=False)
        if status in RETRY_STATUS:
            header = resp.headers.get("retry-after")
            retry_after = float(header) if header and header.replace(".", "", 1).isdigit() else None
            raise _RetryableStatus(LLMError(where, "the server is overloaded or failing; see its log",
                                            retryable=True), retry_after)
        raise LLMError(where, "the request was rejected; see the message above", retryable=False)

    def _transport_error(self, exc: httpx.HTTPError) -> LLMError:
        if isinstance(exc, httpx.TimeoutException):
            return LLMError(
                f"The LLM endpoint {self.base_url} did not answer within {self.timeout_s:g}s",
                "raise llm.openai.timeout_s, use a smaller model, or check the server is not stuck", retryable=True)
        if isinstance(exc, httpx.ConnectError):
            return LLMError(
                f"Cannot reach the LLM endpoint {self.base_url} ({exc})",
                "start the server, or set llm.openai.base_url to where it listens "
                "(or use llm.backend=local for the embedded offline model)", retryable=True)
        return LLMError(f"HTTP error talking to the LLM endpoint {self.base_url}: {exc}",
                        "check the server and llm.openai.base_url", retryable=True)


class _RetryableStatus(Exception):
    def __init__(self, error: LLMError, retry_after: float | None):
        super().__init__(str(error))
        self.error, self.retry_after = error, retry_after


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The `data:` payloads of an SSE stream (multi-line data joined, comments skipped)."""
    buf: list[str] = []
    for line in lines:
        if not line.strip():
            if buf:
                yield "\n".join(buf)
                buf = []
            continue
        if line.startswith(":"):
            continue
        if line.startswith("data:"):
            buf.append(line[5:].lstrip())
    if buf:
        yield "\n".join(buf)


def _safe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return None


def _error_text(data: Any) -> str:
    if isinstance(data, dict):
        err = data.get("error", data.get("detail", data.get("message")))
        if isinstance(err, dict):
            return str(err.get("message") or err)[:300]
        if err:
            return str(err)[:300]
    return ""
