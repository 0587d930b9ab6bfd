"""SQLite cache with a TTL: a repeated web question costs nothing until it expires."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any


class TTLCache:
    def __init__(self, path: Path, ttl_s: float, clock=time.time):
        self.path = Path(path)
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL,"
                       " created REAL NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    @staticmethod
    def key(*parts: Any) -> str:
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def get(self, key: str) -> Any | None:
        if self.ttl_s <= 0:
            return None
        with self._lock, self._connect() as db:
            row = db.execute("SELECT value, created FROM cache WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            if self.clock() - row[1] > self.ttl_s:
                db.execute("DELETE FROM cache WHERE key = ?", (key,))
                return None
            try:
                return json.loads(row[0])
            except ValueError:  # a torn/corrupt row is a miss, not a crash
                return None

    def put(self, key: str, value: Any) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock, self._connect() as db:
            db.execute("INSERT OR REPLACE INTO cache (key, value, created) VALUES (?, ?, ?)",
                       (key, json.dumps(value, default=str), self.clock()))
            db.execute("DELETE FROM cache WHERE created < ?", (self.clock() - self.ttl_s,))
