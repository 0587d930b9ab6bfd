"""Checkpoints and resume.

Every graph step is checkpointed to SQLite (`langgraph-checkpoint-sqlite`, `paths.checkpoint_db`)
with the run id as the thread id. A run folder keeps `settings.json` and `inputs.json`, which is
what rebuilding the run's runtime needs; with them `resume` asks the checkpointer where the run
stopped and continues from there: a step a kill interrupted runs again, finished steps do not.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.errors import AgentInputError
from agent.graph import build_graph
from agent.runtime import Runtime
from agent.session import open_runtime
from tools.core.settings import Settings
from tools.core.settings.loader import resolve_path
from tools.core.settings.migrations import upgrade
from tools.core.types import ToolError
from tools.core.workspace import run_folder

SETTINGS_FILE = "settings.json"
INPUTS_FILE = "inputs.json"


def checkpoint_db(settings: Settings) -> Path:
    db = resolve_path(settings.paths.checkpoint_db)
    db.parent.mkdir(parents=True, exist_ok=True)
    return db


@contextmanager
def checkpointed_graph(settings: Settings, run_id: str, film: Path | None, llm: Any = None,
                       inputs: list[Path] | None = None, *, new_run: bool = False) -> Iterator[tuple[Runtime, Any]]:
    """The run's runtime and its graph compiled with the SQLite checkpointer; both closed on exit.
    `new_run` claims a fresh run folder (a taken run id is refused) and forgets checkpoints a deleted
    run left under the same id, so they cannot leak into this one."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    with open_runtime(settings, run_id, film, llm, inputs, new_run=new_run) as rt:
        conn = sqlite3.connect(str(checkpoint_db(settings)), check_same_thread=False)
        saver = SqliteSaver(conn)
        if new_run:
            saver.delete_thread(run_id)
        try:
            yield rt, build_graph(rt, saver)
        finally:
            conn.close()


def save_run_setup(run_dir: Path, settings: Settings, inputs: list[Path]) -> None:
    """What `resume` needs to rebuild the runtime: the effective settings and the files the user named."""
    (run_dir / INPUTS_FILE).write_text(json.dumps([str(p) for p in inputs]), encoding="utf-8")
    (run_dir / SETTINGS_FILE).write_text(settings.model_dump_json(indent=2), encoding="utf-8")


def load_run_setup(settings: Settings, run_id: str) -> tuple[Settings, list[Path]]:
    """The saved settings and named inputs of run `run_id` (looked up under `paths.runs_dir`)."""
    try:
        run_dir = run_folder(resolve_path(settings.paths.runs_dir), run_id)
    except ToolError as exc:
        raise AgentInputError(f"{exc.message}: nothing to resume") from None
    settings_file = run_dir / SETTINGS_FILE
    if not settings_file.exists():
        raise AgentInputError(f"No run {run_id!r} to resume (looked in {run_dir})")
    data, _notes = upgrade(json.loads(settings_file.read_text(encoding="utf-8")), str(settings_file))
    saved = Settings.model_validate(data)
    inputs_file = run_dir / INPUTS_FILE
    named = [Path(p) for p in json.loads(inputs_file.read_text(encoding="utf-8"))] if inputs_file.exists() else []
    return saved, named


def resume_point(graph: Any, run_id: str):
    """The run's last checkpoint (a LangGraph StateSnapshot; `.next` is empty when the run finished)."""
    snapshot = graph.get_state({"configurable": {"thread_id": run_id}})
    if not snapshot.values:
        raise AgentInputError(f"Run {run_id!r} has no checkpoint to resume")
    return snapshot
