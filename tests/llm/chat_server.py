"""A real Chat Completions server on loopback for the openai backend's tests.

Each POST /chat/completions takes the next scripted action (the last one repeats):
  {"json": {...}}              200 with that JSON body
  {"status": 500, "json": ...} that status (with an optional body / headers)
  {"sse": [event, ...]}        a text/event-stream of `data:` events, then [DONE]
  {"sleep": 1.0, ...}          wait first (to trigger client timeouts)
  {"raw": "text"}              200 with a non-JSON body
Every request is recorded (path, headers, parsed body).
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def completion(content: str | None = "", *, tool_calls: list[dict] | None = None, prompt_tokens: int = 7,
               completion_tokens: int = 3, finish_reason: str = "stop") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def chunk(content: str | None = None, *, tool_calls: list[dict] | None = None,
          finish_reason: str | None = None) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


class ChatServer:
    def __init__(self) -> None:
        self.actions: list[dict[str, Any]] = [{"json": completion("ok")}]
        self.requests: list[dict[str, Any]] = []
        self.models = ["test-model"]
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": None})
                if self.path.endswith("/models"):
                    self._send(200, json.dumps({"data": [{"id": m} for m in server.models]}))
                else:
                    self._send(404, json.dumps({"error": {"message": "not found"}}))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if not self.path.endswith("/chat/completions"):
                    self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
                    return
                index = min(len([r for r in server.requests if r["body"] is not None]) - 1,
                            len(server.actions) - 1)
                action = server.actions[index]
                if action.get("sleep"):
                    time.sleep(action["sleep"])
                if "sse" in action:
                    payload = "".join(f"data: {json.dumps(e)}\n\n" for e in action["sse"]) + "data: [DONE]\n\n"
                    self._send(200, payload, "text/event-stream")
                elif "raw" in action:
                    self._send(action.get("status", 200), action["raw"], "text/plain")
                else:
                    self._send(action.get("status", 200), json.dumps(action.get("json", {})),
                               headers=action.get("headers"))

            def _send(self, status: int, text: str, ctype: str = "application/json",
                      headers: dict[str, str] | None = None) -> None:
                data = text.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def posts(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["body"] is not None]

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
