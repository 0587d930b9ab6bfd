"""The studio's run queue and event log in one SQLite file: it survives a server restart.

A job is one run of the agent as the studio knows it: queued → running → a final status, or
awaiting_review (paused at a review point) → queued again with the person's decision. Events are
the compact, JSON-able events the live pages and `GET /runs/{id}/events` replay.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

FINAL = ("passed", "failed", "done", "rejected", "error", "cancelled")
RESUMABLE = ("error", "interrupted")  # a crashed run or one a stopped server left running
TERMINAL = (*FINAL, "interrupted", "awaiting_review", "needs_input")  # nothing more happens until someone acts

# A person may stop a run that waits or works (POST /runs/{id}/cancel), and resume continues a
# cancelled run from its checkpoint like a crashed one.
CANCELLABLE = ("queued", "running", "waiting_for_gpu")
RESUMABLE = (*RESUMABLE, "cancelled")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    run_id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL,
    film TEXT, strategy TEXT, llm TEXT, review INTEGER NOT NULL DEFAULT 0, batch_id TEXT,
    decision TEXT, pending_review TEXT, result TEXT, error TEXT, score REAL,
    seconds REAL NOT NULL DEFAULT 0, created REAL NOT NULL, started REAL, finished REAL,
    queued_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, queued_at);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (run_id, seq)
);
"""


class Job(BaseModel):
    run_id: str
    kind: Literal["run", "resume", "review"] = "run"
    status: str = "queued"
    request: str
    film: str | None = None
    strategy: str | None = None
    llm: str | None = None
    review: bool = False
    batch_id: str | None = None
    decision: dict[str, Any] | None = None  # the person's review decision, for a queued "review" job
    pending_review: dict[str, Any] | None = None  # what the run waits for while awaiting_review
    result: dict[str, Any] | None = None  # RunResult.summary_json() once it ends
    error: str | None = None
    score: float | None = None
    seconds: float = 0.0  # time spent running, over all its resumes
    created: float = Field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    queued_at: float = Field(default_factory=time.time)


_JSON_COLUMNS = ("decision", "pending_review", "result")


class JobStore:
    """Thread-safe access to the queue (one connection, one lock; WAL so readers do not block)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- jobs -----------------------------------------------------------------------------------------
    def add(self, jobs: list[Job]) -> None:
        """Queue jobs atomically (a batch is all or nothing)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for job in jobs:
                    row = self._row(job)
                    self._db.execute(f"INSERT INTO jobs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                     list(row.values()))
            except Exception:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, run_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE run_id = ?", (run_id,)).fetchone()
        return self._job(row) if row else None

    def list(self, limit: int = 200) -> list[Job]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs ORDER BY created DESC LIMIT ?", (limit,)).fetchall()
        return [self._job(r) for r in rows]

    def update(self, run_id: str, **fields: Any) -> None:
        row = {k: json.dumps(v) if k in _JSON_COLUMNS and v is not None else v for k, v in fields.items()}
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in row)} WHERE run_id = ?",
                             [*row.values(), run_id])

    def requeue(self, run_id: str, kind: str, decision: dict | None = None) -> None:
        """Queue a run again; one a person just reviewed keeps its place (it was queued first)."""
        job = self.get(run_id)
        queued_at = job.created if job is not None and kind == "review" else time.time()
        self.update(run_id, kind=kind, status="queued", decision=decision, error=None, queued_at=queued_at)

    def cancel_queued(self, run_id: str) -> bool:
        """Cancel a run that has not started (atomically: a worker may be claiming it); False if it runs."""
        with self._lock:
            changed = self._db.execute("UPDATE jobs SET status = 'cancelled', finished = ?, error = ? "
                                       "WHERE run_id = ? AND status = 'queued'",
                                       (time.time(), "cancelled before it started", run_id)).rowcount
        return changed == 1

    def claim(self, accept=lambda job: True) -> Job | None:
        """Mark the oldest queued job that `accept`s as running and return it."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM jobs WHERE status = 'queued' ORDER BY queued_at, created").fetchall()
            for row in rows:
                job = self._job(row)
                if accept(job):
                    self._db.execute("UPDATE jobs SET status = 'running', started = ? WHERE run_id = ?",
                                     (time.time(), job.run_id))
                    return job.model_copy(update={"status": "running"})
        return None

    def recover(self, resume: bool) -> list[str]:
        """After a restart: runs left `running` were cut off; requeue them as resumes (or mark them)."""
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT run_id FROM jobs WHERE status = 'running'").fetchall()]
        for run_id in ids:
            if resume:
                self.requeue(run_id, "resume")
            else:
                self.update(run_id, status="interrupted", error="the server stopped while this run was running")
        return ids

    # -- events -----------------------------------------------------------------------------------------
    def add_event(self, run_id: str, seq: int, event: dict) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO events (run_id, seq, data) VALUES (?, ?, ?)",
                             (run_id, seq, json.dumps(event, default=str)))

    def events(self, run_id: str, after: int = 0) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq",
                                    (run_id, after)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def last_seq(self, run_id: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM events WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0] or 0)

    # -- rows ---------------------------------------------------------------------------------------------
    @staticmethod
    def _row(job: Job) -> dict[str, Any]:
        data = job.model_dump()
        return {k: json.dumps(v) if k in _JSON_COLUMNS and v is not None else (int(v) if isinstance(v, bool) else v)
                for k, v in data.items()}

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        data = dict(row)
        for key in _JSON_COLUMNS:
            if data.get(key):
                data[key] = json.loads(data[key])
        data["review"] = bool(data["review"])
        return Job.model_validate(data)
