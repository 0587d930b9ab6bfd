"""`datasets/<name>/metadata.json`: one document enriched by every stage (docs/architecture.md, Contract 5).

Durability: the JSON is written atomically (tmp + fsync + os.replace), and while a stage runs each
finished item is also appended to `journal.jsonl` (one flushed line per item). A kill -9 loses at
most the line being written; `load()` replays the journal, so no finished item is redone and none
is lost. `save()` folds the journal into the JSON and truncates it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError

METADATA_VERSION = 1  # the layout of metadata.json; a file from a newer layout is refused, not misread
Status = Literal["done", "kept", "dropped", "failed", "skipped", "pending"]  # pending: measured, not decided
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able parts (parameters, upstream fingerprints, file stats)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_fingerprint(path: Path) -> str:
    """Identity of a file's content, cheap for films: size + mtime + hash of the first/last MiB."""
    st = path.stat()
    h = hashlib.sha256(f"{st.st_size}:{int(st.st_mtime)}".encode())
    with path.open("rb") as fh:
        h.update(fh.read(1 << 20))
        if st.st_size > 2 << 20:
            fh.seek(-(1 << 20), os.SEEK_END)
            h.update(fh.read(1 << 20))
    return h.hexdigest()[:16]


class StageRecord(BaseModel):
    """One item's state in one stage: what was decided, why, and from which inputs."""

    status: Status
    fingerprint: str = ""
    reason: str = ""
    scores: dict[str, Any] = Field(default_factory=dict)


class Detection(BaseModel):
    character: str | None  # None: a face/figure that matched no reference
    box: tuple[int, int, int, int]  # x, y, w, h in pixels
    score: float  # identity similarity to the best reference
    area_fraction: float
    backend: str


class FrameItem(BaseModel):
    id: str
    file: str  # relative to the dataset folder
    frame_index: int
    timestamp: float
    scene: int
    sources: list[Literal["scene", "interval"]] = Field(default_factory=list)
    width: int = 0
    height: int = 0
    stages: dict[str, StageRecord] = Field(default_factory=dict)
    detections: list[Detection] = Field(default_factory=list)
    caption: str | None = None
    caption_source: str = ""

    def status(self, stage: str) -> str | None:
        rec = self.stages.get(stage)
        return rec.status if rec else None

    @property
    def characters(self) -> list[str]:
        return sorted({d.character for d in self.detections if d.character})


class StageSummary(BaseModel):
    stage: str
    fingerprint: str = ""
    seconds: float = 0.0
    counts: dict[str, int] = Field(default_factory=dict)
    reasons: dict[str, int] = Field(default_factory=dict)
    redone: int = 0
    reused: int = 0
    finished_at: float = 0.0
    notes: list[str] = Field(default_factory=list)


class CharacterInfo(BaseModel):
    name: str
    trigger: str
    refs: list[str] = Field(default_factory=list)


class DatasetMetadata(BaseModel):
    version: int = METADATA_VERSION
    name: str
    film: str | None = None
    film_fingerprint: str = ""
    fps: float = 0.0
    refs_dir: str | None = None
    trigger: str | None = None  # a LoRA of the whole dataset (no character) leads its captions with it
    characters: dict[str, CharacterInfo] = Field(default_factory=dict)
    items: dict[str, FrameItem] = Field(default_factory=dict)
    stages: dict[str, StageSummary] = Field(default_factory=dict)
    scenes: list[tuple[float, float]] = Field(default_factory=list)
    outputs: dict[str, Any] = Field(default_factory=dict)  # export folders, LoRA paths, sample sheets


def dataset_dir(settings, name: str) -> Path:
    if not _NAME.match(name):
        raise ToolError(f"Invalid dataset name {name!r}", "use letters, digits, '-', '_' and '.' (no slashes)")
    return resolve_path(settings.paths.datasets_dir) / name


class DatasetStore:
    """Loads, journals and atomically saves one dataset's metadata."""

    def __init__(self, root: Path, name: str):
        self.root = Path(root)
        self.path = self.root / "metadata.json"
        self.journal_path = self.root / "journal.jsonl"
        self.meta = DatasetMetadata(name=name)
        self._journal = None

    @classmethod
    def exists(cls, settings, name: str) -> bool:
        return (dataset_dir(settings, name) / "metadata.json").exists()

    @classmethod
    def open(cls, settings, name: str, *, create: bool = True) -> DatasetStore:
        root = dataset_dir(settings, name)
        if not root.exists() and not create:
            raise ToolError(f"No dataset named {name!r} in {root.parent}", "run `animstudio dataset run` first")
        root.mkdir(parents=True, exist_ok=True)
        store = cls(root, name)
        store.load()
        return store

    def load(self) -> DatasetMetadata:
        if self.path.exists():
            try:
                self.meta = DatasetMetadata.model_validate_json(self.path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise ToolError(f"{self.path} is not valid dataset metadata: {exc}",
                                "restore it from backup or delete the dataset folder to start over") from exc
            if self.meta.version > METADATA_VERSION:
                raise ToolError(f"{self.path} has metadata version {self.meta.version}; this animstudio reads "
                                f"up to {METADATA_VERSION}", "use the animstudio that built this dataset, or upgrade")
        self._replay_journal()
        return self.meta

    def _replay_journal(self) -> None:
        if not self.journal_path.exists():
            return
        for line in self.journal_path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # the line a kill interrupted
            self._apply(entry)

    def _apply(self, entry: dict[str, Any]) -> None:
        if entry.get("op") == "item":
            item = FrameItem.model_validate(entry["item"])
            self.meta.items[item.id] = item

    def record(self, item: FrameItem) -> None:
        """Store a finished item in memory and append it to the journal (durable at once)."""
        self.meta.items[item.id] = item
        if self._journal is None:
            self._journal = self.journal_path.open("a", encoding="utf-8")
        self._journal.write(json.dumps({"op": "item", "item": item.model_dump(mode="json")}) + "\n")
        self._journal.flush()

    def save(self) -> None:
        """Write metadata.json atomically, then drop the journal it now contains."""
        data = self.meta.model_dump_json(indent=1)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".metadata-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self.journal_path.unlink(missing_ok=True)

    def finish_stage(self, summary: StageSummary) -> StageSummary:
        summary.finished_at = time.time()
        self.meta.stages[summary.stage] = summary
        self.save()
        (self.root / "summaries").mkdir(exist_ok=True)
        (self.root / "summaries" / f"{summary.stage}.json").write_text(summary.model_dump_json(indent=1), encoding="utf-8")
        return summary

    def items(self, *, kept_after: str | None = None) -> list[FrameItem]:
        """Items in film order; with `kept_after`, only those the given stage kept."""
        out = sorted(self.meta.items.values(), key=lambda i: (i.frame_index, i.id))
        if kept_after:
            out = [i for i in out if i.status(kept_after) in ("kept", "done")]
        return out

    def abspath(self, rel: str) -> Path:
        return self.root / rel
