"""Idempotent ingestion of markdown/text files into the KnowledgeBase.

A file's content hash is stored on each of its chunks: an unchanged file costs one metadata
lookup, a changed file's chunks are replaced, and when a folder is ingested the chunks of files
that disappeared from it are removed.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from rag.knowledge_base import KnowledgeBase
from rag.markdown import KIND_RE, read_document
from tools.core.types import ToolError

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}


class IngestReport(BaseModel):
    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)  # source -> error message
    chunks_written: int = 0

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.removed)} removed, {len(self.failed)} failed, {self.chunks_written} chunks written")


def source_name(path: Path) -> str:
    """Stable source id: relative to ANIMSTUDIO_HOME when inside it, else absolute (posix)."""
    from tools.core.settings.loader import home

    path = path.resolve()
    try:
        return path.relative_to(home()).as_posix()
    except ValueError:
        return path.as_posix()


def discover(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def ingest_path(kb: KnowledgeBase, path: Path | str, *, kind: str | None = None, prune: bool = True,
                progress=None) -> IngestReport:
    """Ingest a file or a folder (recursively: .md, .markdown, .txt).

    kind: default collection for files whose front matter names none ("notes" otherwise).
    prune: when `path` is a folder, remove chunks of files that were ingested from it before
    and no longer exist.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise ToolError(f"Nothing to ingest: {root} does not exist", "pass a markdown file or a folder of them")
    if kind is not None and not KIND_RE.match(kind):
        raise ToolError(f"'{kind}' is not a valid knowledge kind", "use a short lowercase word, e.g. styles")
    files = discover(root)
    sources = kb.sources()
    known = {s.source: s for s in sources if s.origin == "file"}
    kinds_of: dict[str, list[str]] = {}
    for info in sources:
        kinds_of.setdefault(info.source, []).append(info.kind)
    prefix = source_name(root).rstrip("/") + "/"
    if root.is_dir() and not files and not any(src.startswith(prefix) for src in known):
        raise ToolError(f"No .md/.markdown/.txt files under {root}", "write knowledge as markdown files")
    report = IngestReport()
    changed = []
    for file in files:
        source = source_name(file)
        try:
            doc = read_document(file, source, default_kind=kind or "notes")
            if not doc.body.strip():
                raise ToolError(f"{source} has no text below its front matter", "write some markdown")
        except ToolError as exc:
            report.failed[source] = str(exc)  # the previous version (if any) stays searchable
            continue
        previous = known.get(source)
        if previous and previous.source_hash == doc.content_hash and previous.kind == doc.kind:
            report.unchanged.append(source)
        else:
            changed.append(doc)
            (report.updated if previous else report.added).append(source)
    if changed:
        report.chunks_written = kb.replace_documents(changed, kinds_of, progress=progress)
    if prune and root.is_dir():
        present = {source_name(f) for f in files}
        for source in known:
            if source.startswith(prefix) and source not in present and not (root / source[len(prefix):]).exists():
                kb.remove_source(source, kinds_of.get(source))
                report.removed.append(source)
    return report


def ingest_default_knowledge(kb: KnowledgeBase, settings, progress=None) -> IngestReport:
    """Sync the shipped knowledge folder (settings.rag.knowledge_dir) into the knowledge base."""
    from tools.core.settings.loader import resolve_path

    folder = resolve_path(settings.rag.knowledge_dir)
    if not folder.is_dir():
        raise ToolError(f"Knowledge folder not found: {folder}", "set rag.knowledge_dir to a folder of markdown files")
    return ingest_path(kb, folder, progress=progress)
