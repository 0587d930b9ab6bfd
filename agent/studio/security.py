"""Who may call the studio, how big a request may be, and which files a client may name.

- Bound to a loopback address the studio needs no token (a configured one is still enforced);
  bound anywhere else it refuses to start without one. The token goes in `Authorization: Bearer`,
  or once in the address (`/?token=...`), which sets an HttpOnly, SameSite=Strict cookie.
- A state-changing request from a web page of another origin is refused (no cross-site runs from
  a page you happen to visit), unless that origin is in studio.cors_origins.
- Request bodies are counted as they arrive: an upload (a multipart form) over studio.max_upload_mb,
  any other body (JSON, JSONL text, a small form) over studio.max_body_kb, is cut off with 413
  before it fills the disk or the memory. The messages name the configured limit.
- A path from a client is a name inside a root (the media library, a run folder), never a way out.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "animstudio_token"
OPEN_PATHS = ("/healthz", "/static/", "/favicon.ico")
# A run id names one folder of runs/: letters, digits, `-`, `_` and inner dots; never `.` or `..`.
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
# An absolute path inside a message: a `/` that starts a word, then at least one more component.
_ABSOLUTE = re.compile(r"(?<![\w.~:/])/(?:[^\s'\"`,;:()<>\[\]{}|]+/)+([^\s'\"`,;:()<>\[\]{}|/]*)")


class ClientPathError(ValueError):
    """A client named a file outside the roots it may use; the message says which roots."""


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def effective_token(host: str, configured: str | None) -> tuple[str | None, bool]:
    """(token to enforce, whether it was generated now). Loopback without a configured one: none."""
    if configured:
        return configured, False
    if is_loopback(host):
        return None, False
    return secrets.token_urlsafe(24), True


def is_run_id(name: str) -> bool:
    return len(name) <= 128 and RUN_ID.fullmatch(name) is not None


def redact_paths(text: str, roots: dict[Path, str] | None = None) -> str:
    """A message for a client without the server's absolute paths: a path inside one of `roots`
    becomes its name there (`roots` maps a folder to how to show it, "" for nothing), any other
    absolute path only its file name."""
    for root, shown in sorted((roots or {}).items(), key=lambda kv: -len(str(kv[0]))):
        prefix = str(root).rstrip("/") + "/"
        text = text.replace(prefix, f"{shown}/" if shown else "")
    return _ABSOLUTE.sub(lambda m: m.group(1) or "…", text)


def inside(root: Path, relative: str) -> Path:
    """`root / relative`, refusing absolute paths, `..` and links that lead out of `root`."""
    rel = Path(relative)
    if not relative or rel.is_absolute() or ".." in rel.parts or "\x00" in relative:
        raise ClientPathError(f"{relative!r} is not a plain path inside its folder")
    root = root.resolve()
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        raise ClientPathError(f"{relative!r} leads outside its folder")
    return target


def library_file(media_roots: list[Path], name: str) -> Path:
    """A film the client names: a file inside one of the media roots (relative to it, or absolute)."""
    roots = [r.resolve() for r in media_roots]
    path = Path(name)
    candidates: list[Path] = []
    if path.is_absolute():
        resolved = path.resolve()
        if ".." not in path.parts and any(resolved == r or r in resolved.parents for r in roots):
            candidates.append(resolved)
    else:
        for root in roots:
            try:
                candidates.append(inside(root, name))
            except ClientPathError:
                continue
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    where = f"{len(roots)} folder(s)" if roots else "no folder configured"
    raise ClientPathError(f"film {name!r} is not a file in the media library ({where} in paths.media_roots; "
                          "GET /media lists the films)")


class BodyLimits:
    """How big a request body may be: an upload form one size, anything else another (in bytes)."""

    FORM_OVERHEAD = 1_000_000  # the other fields and the multipart framing around an uploaded film

    def __init__(self, upload_mb: float, body_kb: float):
        self.upload_mb, self.body_kb = upload_mb, body_kb

    def for_type(self, content_type: str) -> tuple[int, str]:
        """(limit in bytes, what the refusal says) for a body of this content type."""
        if content_type.lower().startswith("multipart/form-data"):
            return (int(self.upload_mb * 1e6) + self.FORM_OVERHEAD,
                    f"the limit for an upload is {self.upload_mb:g} MB (studio.max_upload_mb)")
        return int(self.body_kb * 1000), f"the limit for a request body is {self.body_kb:g} kB (studio.max_body_kb)"


class StudioGuard:
    """ASGI middleware: token, cross-origin writes, and the request body limits."""

    def __init__(self, app: ASGIApp, token: str | None, limits: BodyLimits, allowed_origins: list[str]):
        self.app = app
        self.token = token
        self.limits = limits
        self.allowed_origins = {o.rstrip("/") for o in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        set_cookie = False
        if self.token and not path.startswith(OPEN_PATHS):
            # The address the server printed wins over an old cookie: a generated token changes at
            # every restart, and a stale cookie must not lock the user out of the new one.
            from_query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
            given = _bearer(headers) or from_query or _cookie(headers.get("cookie", ""))
            set_cookie = bool(from_query) and given == from_query
            if not given:
                return await _deny(send, 401, "a token is required: Authorization: Bearer TOKEN "
                                              "(or open the address animstudio serve printed)")
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return await _deny(send, 401, "wrong token")
        if scope.get("method", "GET") not in ("GET", "HEAD", "OPTIONS") and not self._same_origin(headers):
            return await _deny(send, 403, f"requests from {headers.get('origin')} are not allowed "
                                          "(add it to studio.cors_origins)")
        limit, says = self.limits.for_type(headers.get("content-type", ""))
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > limit:
            return await _deny(send, 413, f"the request body is {_size(int(length))}; {says}")
        await self.app(scope, self._counting(receive, limit, says), self._with_cookie(send) if set_cookie else send)

    def _same_origin(self, headers: dict[str, str]) -> bool:
        origin = headers.get("origin")
        if not origin:
            return True  # not sent by a web page (curl, scripts)
        if origin.rstrip("/") in self.allowed_origins:
            return True
        return urlsplit(origin).netloc == headers.get("host", "")

    @staticmethod
    def _counting(receive: Receive, limit: int, says: str) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:  # FastAPI turns this into the 413 response
                    raise HTTPException(413, f"the request body passed its limit: {says}")
            return message

        return counted

    def _with_cookie(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())]}
            await send(message)

        return sending


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def _bearer(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _cookie(header: str) -> str | None:
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


async def _deny(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
