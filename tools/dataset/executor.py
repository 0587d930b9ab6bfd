"""Per-item executors: how a stage maps a pure function over its items.

The stages only use `ItemExecutor.map(fn, items)`, which yields `(item, result | exception)` as
work finishes. `fn` must be a module-level function of picklable arguments for the process pool.
Spreading work over machines happens one level up (library.py, ray_library.py): whole stages of
whole films go to Ray tasks and actors, and inside them per-item work runs on threads.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")
ExecutorKind = Literal["process", "thread", "serial"]


class ItemExecutor(Protocol):
    kind: str

    def map(self, fn: Callable[[T], Any], items: Iterable[T]) -> Iterator[tuple[T, Any]]: ...


class SerialExecutor:
    kind = "serial"

    def map(self, fn: Callable[[T], Any], items: Iterable[T]) -> Iterator[tuple[T, Any]]:
        for item in items:
            try:
                yield item, fn(item)
            except Exception as exc:  # noqa: BLE001 - a bad item is reported, the stage goes on
                yield item, exc


class PoolExecutor:
    """A bounded-window pool: at most `2 × workers` items in flight, results as they complete."""

    def __init__(self, kind: Literal["process", "thread"], workers: int, min_process_items: int = 64):
        self.kind = kind
        self.workers = max(1, workers)
        # Starting processes costs seconds; below this many items threads win (OpenCV releases the GIL).
        self.min_process_items = min_process_items

    def _pool(self, n_items: int) -> Executor:
        if self.kind == "thread" or n_items < self.min_process_items:
            return ThreadPoolExecutor(self.workers)
        # spawn: forking a process that holds torch/BLAS threads can deadlock the children.
        return ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))

    def map(self, fn: Callable[[T], Any], items: Iterable[T]) -> Iterator[tuple[T, Any]]:
        items = list(items)
        it = iter(items)
        with self._pool(len(items)) as pool:
            pending: dict[Any, T] = {}

            def fill() -> None:
                while len(pending) < 2 * self.workers:
                    try:
                        item = next(it)
                    except StopIteration:
                        return
                    pending[pool.submit(fn, item)] = item

            fill()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    item = pending.pop(fut)
                    exc = fut.exception()
                    yield item, exc if exc is not None else fut.result()
                fill()


def make_executor(kind: ExecutorKind, workers: int) -> ItemExecutor:
    if kind == "serial" or workers <= 1 and kind == "process":
        return SerialExecutor()
    return PoolExecutor(kind, workers)
