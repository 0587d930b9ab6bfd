"""Progress reporting: tools report, the front end (rich, notebook, stream) decides how to show it."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Protocol


class ProgressTask(Protocol):
    def advance(self, amount: float = 1.0) -> None: ...
    def update(self, completed: float | None = None, total: float | None = None, description: str | None = None) -> None: ...


class Progress(Protocol):
    def task(self, description: str, total: float | None = None) -> "contextmanager[ProgressTask]": ...


class _Task:
    def __init__(self, reporter: "CallbackProgress", description: str, total: float | None):
        self.reporter, self.description, self.total, self.completed = reporter, description, total, 0.0

    def advance(self, amount: float = 1.0) -> None:
        self.update(completed=self.completed + amount)

    def update(self, completed: float | None = None, total: float | None = None, description: str | None = None) -> None:
        if completed is not None:
            self.completed = completed
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        self.reporter.emit(self)


class CallbackProgress:
    """Sends {description, completed, total} to listeners (rich bars, stream events, the trace)."""

    def __init__(self) -> None:
        self.listeners: list = []

    def emit(self, task: _Task, done: bool = False) -> None:
        event = {"description": task.description, "completed": task.completed, "total": task.total, "done": done}
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:
                pass

    @contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[_Task]:
        task = _Task(self, description, total)
        self.emit(task)
        try:
            yield task
        finally:
            self.emit(task, done=True)


NULL_PROGRESS = CallbackProgress()
