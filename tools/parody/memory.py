"""The parody memory: which technique and lines each earlier parody used, per film and scene.

One JSON file under `paths.cache_dir/parody/history.json` (the newest MAX_ENTRIES entries). The script
writer reads it to take another technique on a second run and never repeat a line; the comedy check in
the gate reads it to measure repetition against the film's previous parodies.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, Field

from tools.core.settings.loader import resolve_path

MAX_ENTRIES = 400


class Entry(BaseModel):
    film: str  # the film's file name
    scene: tuple[float, float]
    technique: str
    lines: list[str] = Field(default_factory=list)
    script: str = ""  # the script file that recorded it (its own parody is not compared with itself)


def history_path(settings) -> Path:
    return resolve_path(settings.paths.cache_dir) / "parody" / "history.json"


def load(settings) -> list[Entry]:
    try:
        return [Entry.model_validate(e) for e in json.loads(history_path(settings).read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        return []


def record(settings, entry: Entry) -> None:
    path = history_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    entries = [e for e in load(settings) if e.script != entry.script or not entry.script] + [entry]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".history-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump([e.model_dump(mode="json") for e in entries[-MAX_ENTRIES:]], fh, ensure_ascii=False)
    os.replace(tmp, path)


def same_scene(e: Entry, film: str, scene: tuple[float, float]) -> bool:
    return e.film == film and abs(e.scene[0] - scene[0]) < 1.0 and abs(e.scene[1] - scene[1]) < 1.0
