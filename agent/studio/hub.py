"""Live events: worker threads publish, SSE responses (asyncio) follow one run each.

Every event gets the run's next sequence number (the SSE id, so a reconnecting browser sends
Last-Event-ID and misses nothing) and a timestamp. Progress ticks are frequent and only their latest
value matters: they are kept in memory per task; every other event is also written to the job
store, so a run's story can be replayed after a restart.
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from agent.studio.events import is_terminal
from agent.studio.jobs import TERMINAL, JobStore


class EventHub:
    def __init__(self, store: JobStore):
        self.store = store
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}
        self._progress: dict[str, dict[str, dict]] = defaultdict(dict)
        self._followers: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = defaultdict(list)

    def publish(self, run_id: str, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            seq = self._seq.get(run_id) or self.store.last_seq(run_id)
            seq += 1
            self._seq[run_id] = seq
            event = {**event, "seq": seq, "ts": time.time()}
            if event["type"] == "progress":
                tasks = self._progress[run_id]
                tasks.pop(event["description"], None) if event.get("done") else tasks.__setitem__(event["description"], event)
            else:
                self.store.add_event(run_id, seq, event)
                if event["type"] == "status" and event.get("status") in TERMINAL:
                    self._progress.pop(run_id, None)
            followers = list(self._followers.get(run_id, ()))
        for loop, queue in followers:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # that follower's loop is closed: it is gone
                pass
        return event

    def progress(self, run_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return sorted(self._progress.get(run_id, {}).values(), key=lambda e: e["seq"])

    async def follow(self, run_id: str, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        """The run's events after `after`, then live ones, until it reaches a status where it waits."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        entry = (loop, queue)
        with self._lock:  # subscribe and read the backlog atomically: nothing slips between them
            self._followers[run_id].append(entry)
            backlog = self.store.events(run_id, after)
            backlog += [e for e in self._progress.get(run_id, {}).values() if e["seq"] > after]
            latest = self._seq.get(run_id) or self.store.last_seq(run_id)
        try:
            last, ended = after, False
            for event in sorted(backlog, key=lambda e: e["seq"]):
                last, ended = event["seq"], is_terminal(event)
                yield event
            job = self.store.get(run_id)
            if ended or (job is not None and job.status in TERMINAL and last >= latest):
                return  # nothing is running: do not hold the connection open
            while True:
                event = await queue.get()
                if event["seq"] <= last:
                    continue
                last = event["seq"]
                yield event
                if is_terminal(event):
                    return
        finally:
            with self._lock:
                if entry in self._followers.get(run_id, []):
                    self._followers[run_id].remove(entry)
