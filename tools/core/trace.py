"""The run trace: one JSON object a line in runs/<id>/trace.jsonl."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Iterator


class Trace:
    """Append-only event log. Every node, LLM call, tool call, switch, score and error goes here."""

    def __init__(self, path: Path | None):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._listeners: list = []
        self._fh = None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def subscribe(self, listener) -> None:
        """`listener(event: dict)` is called for every event (used for streaming progress)."""
        self._listeners.append(listener)

    def event(self, kind: str, **data: Any) -> dict[str, Any]:
        record = {"ts": round(time.time(), 3), "kind": kind, **data}
        line = json.dumps(record, default=str, ensure_ascii=False)
        with self._lock:
            if self.path:
                # One handle per trace, flushed per line: a kill -9 loses at most the line being written.
                if self._fh is None or self._fh.closed:
                    self._fh = self.path.open("a", encoding="utf-8")
                self._fh.write(line + "\n")
                self._fh.flush()
        for listener in list(self._listeners):
            try:
                listener(record)
            except Exception:  # a broken listener must never break the run
                pass
        return record

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None

    def read(self) -> list[dict[str, Any]]:
        return list(read_trace(self.path)) if self.path else []


def read_trace(path: Path | None) -> Iterator[dict[str, Any]]:
    if not path or not Path(path).exists():
        return
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill -9 is skipped, not fatal
                continue


NULL_TRACE = Trace(None)
