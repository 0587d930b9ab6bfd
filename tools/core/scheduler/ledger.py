"""Cross-process residency ledger: two runs on one machine share one GPU without breaking the rules.

A `filelock` lock file serialises every read-modify-write of a small JSON ledger
({entries: who holds which resource, requests: who asked whom to evict what}). The lock is an
flock, which the kernel drops when its holder dies; entries of dead processes (pid gone, or the pid
reused by a newer process) are pruned on every transaction, so a crashed run never blocks the GPU.
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from filelock import FileLock, Timeout
from pydantic import BaseModel, Field, ValidationError

from tools.core.types import ToolError


class LedgerEntry(BaseModel):
    pid: int
    started: float  # the holder's process create_time: a reused pid does not inherit the entry
    resource: str
    estimate_gb: float = 0.0
    since: float = Field(default_factory=time.time)


class EvictRequest(BaseModel):
    resource: str
    owner_pid: int
    by_pid: int
    since: float = Field(default_factory=time.time)


class LedgerState(BaseModel):
    entries: list[LedgerEntry] = Field(default_factory=list)
    requests: list[EvictRequest] = Field(default_factory=list)

    def held_by_others(self, pid: int) -> list[LedgerEntry]:
        return [e for e in self.entries if e.pid != pid]

    def request(self, resource: str, owner_pid: int, by_pid: int) -> None:
        if not any(r.resource == resource and r.owner_pid == owner_pid for r in self.requests):
            self.requests.append(EvictRequest(resource=resource, owner_pid=owner_pid, by_pid=by_pid))

    def drop(self, pid: int, resource: str) -> None:
        self.entries = [e for e in self.entries if not (e.pid == pid and e.resource == resource)]
        self.requests = [r for r in self.requests if not (r.owner_pid == pid and r.resource == resource)]


def process_started(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def _alive(pid: int, started: float) -> bool:
    actual = process_started(pid)
    if actual is None:
        return False
    try:  # a zombie (killed, not yet reaped) holds no memory any more
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return False
    except psutil.Error:
        return False
    return abs(actual - started) < 1.0


class Ledger:
    def __init__(self, directory: Path, device: str = "gpu0", lock_timeout_s: float = 30.0):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"{device}.ledger.json"
        self.lock = FileLock(str(self.directory / f"{device}.lock"), timeout=lock_timeout_s)
        self.pid = os.getpid()
        self.started = process_started(self.pid) or time.time()
        self.pruned: list[LedgerEntry] = []  # stale entries cleared by this process (for the trace)

    def stamp(self) -> tuple[int, int]:
        """Cheap change detection (one stat call) so idle processes do not re-read the file."""
        try:
            st = os.stat(self.path)
            return st.st_mtime_ns, st.st_size
        except FileNotFoundError:
            return 0, 0

    def _read(self) -> LedgerState:
        if not self.path.exists():
            return LedgerState()
        try:
            return LedgerState.model_validate(json.loads(self.path.read_text(encoding="utf-8") or "{}"))
        except (json.JSONDecodeError, ValidationError, UnicodeDecodeError):
            # A torn or hand-edited ledger is rebuilt: live holders re-register on their next acquire.
            return LedgerState()

    def _write(self, state: LedgerState) -> None:
        tmp = self.path.with_suffix(f".{self.pid}.tmp")
        tmp.write_text(state.model_dump_json(indent=1), encoding="utf-8")
        os.replace(tmp, self.path)  # atomic: readers never see half a file

    @contextmanager
    def transaction(self) -> Iterator[LedgerState]:
        try:
            self.lock.acquire()
        except Timeout as exc:
            raise ToolError(f"another process has held the GPU ledger lock {self.lock.lock_file} for "
                            f"{self.lock.timeout}s", "check for a hung animstudio run") from exc
        try:
            state = self._read()
            before = state.model_dump_json()
            dead = [e for e in state.entries if e.pid != self.pid and not _alive(e.pid, e.started)]
            if dead:
                self.pruned.extend(dead)
                gone = {e.pid for e in dead}
                state.entries = [e for e in state.entries if e.pid not in gone]
            live = {e.pid for e in state.entries} | {self.pid}
            state.requests = [r for r in state.requests if r.owner_pid in live and (r.by_pid == self.pid or psutil.pid_exists(r.by_pid))]
            yield state
            if state.model_dump_json() != before:
                self._write(state)
        finally:
            self.lock.release()

    def entry(self, resource: str, estimate_gb: float) -> LedgerEntry:
        return LedgerEntry(pid=self.pid, started=self.started, resource=resource, estimate_gb=estimate_gb)

    def snapshot(self) -> LedgerState:
        with self.transaction() as state:
            return state.model_copy(deep=True)
