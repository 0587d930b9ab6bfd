"""Markdown knowledge files: YAML front matter + heading-aware chunks.

Each chunk keeps the path of headings above it ("Luca Paguro > Appearance") and that path is
prefixed to the text that gets embedded and keyword-indexed, so a short paragraph under
"Voice notes" still matches a query about Luca's voice.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field

from tools.core.types import ToolError

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^(```|~~~)")
KIND_RE = re.compile(r"^[a-z][a-z0-9_-]{1,40}$")


class KnowledgeDocument(BaseModel):
    """One source file (or one pushed document) before chunking."""

    source: str
    kind: str
    title: str
    body: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    content_hash: str


class Chunk(BaseModel):
    id: str
    text: str  # heading path + body: what gets embedded and keyword-indexed
    body: str
    heading_path: list[str]
    metadata: dict[str, Any]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def split_front_matter(text: str, source: str = "<text>") -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ToolError(f"{source}: the YAML front matter is invalid: {exc}",
                        "fix the block between the two '---' lines at the top of the file") from exc
    if not isinstance(meta, dict):
        raise ToolError(f"{source}: the front matter must be a YAML mapping (key: value lines)",
                        "write e.g. 'kind: characters' and 'film: Luca' between the '---' lines")
    return meta, text[match.end():]


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [s.strip() for s in str(value).split(",") if s.strip()]


def read_document(path: Path, source: str, default_kind: str = "notes") -> KnowledgeDocument:
    """Parse one markdown/text file. Raises ToolError on unreadable or invalid files."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ToolError(f"Cannot read knowledge file {path}: {exc.strerror or exc}", "check the path and permissions") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ToolError(f"{source} is not UTF-8 text", "save the file as UTF-8 markdown") from exc
    meta, body = split_front_matter(text, source)
    kind = str(meta.get("kind") or default_kind).strip().lower()
    if not KIND_RE.match(kind):
        raise ToolError(f"{source}: kind '{kind}' is not a valid collection name",
                        "use a short lowercase word such as characters, films, scenes, styles or comedy")
    title = str(meta.get("title") or _first_heading(body) or path.stem.replace("-", " ").replace("_", " "))
    return KnowledgeDocument(source=source, kind=kind, title=title, body=body,
                             metadata=normalise_metadata(meta), content_hash=content_hash(text))


def normalise_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """Front matter → flat chroma-safe metadata (scalars only) with case-folded filter keys."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        key = str(key).strip().lower()
        if key in ("kind", "title"):
            continue
        if key in ("tags", "characters", "films"):
            items = _as_list(value)
            out[key] = ", ".join(items)
        elif isinstance(value, (str, int, float, bool)):
            out[key] = value
        elif value is not None:
            out[key] = str(value)
    # Boolean flag keys ("film:luca": True) make film/character/tag filters exact matches that
    # chroma's where-clauses and the keyword index evaluate the same way, even for lists.
    for name in _as_list(meta.get("films")) + _as_list(meta.get("film")):
        out[f"film:{name.casefold()}"] = True
    for name in _as_list(meta.get("characters")) + _as_list(meta.get("character")):
        out[f"character:{name.casefold()}"] = True
        out[f"character:{name.split()[0].casefold()}"] = True  # "Alberto" finds "Alberto Scorfano"
    for tag in _as_list(meta.get("tags")):
        out[f"tag:{tag.casefold()}"] = True
    return out


def _first_heading(body: str) -> str | None:
    for line in body.splitlines():
        m = _HEADING.match(line)
        if m:
            return m.group(2).strip()
    return None


def _sections(body: str) -> list[tuple[list[str], str]]:
    """Split on headings (outside code fences) → [(heading_path, section_text)]."""
    sections: list[tuple[list[str], str]] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text:
            sections.append(([h for _, h in path], text))
        lines.clear()

    for line in body.splitlines():
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        m = None if in_fence else _HEADING.match(line)
        if m:
            flush()
            level = len(m.group(1))
            path = [(lv, h) for lv, h in path if lv < level] + [(level, m.group(2).strip())]
        else:
            lines.append(line)
    flush()
    return sections


def _split_long(text: str, max_chars: int) -> list[str]:
    """Pack paragraphs (then sentences) into pieces of at most ~max_chars."""
    if len(text) <= max_chars:
        return [text]
    units: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = para.strip()
        if len(para) <= max_chars:
            units.append(para)
        else:
            units.extend(s for s in re.split(r"(?<=[.!?])\s+", para) if s)
    pieces, current = [], ""
    for unit in units:
        while len(unit) > max_chars:  # one enormous sentence: hard split
            pieces.append(unit[:max_chars])
            unit = unit[max_chars:]
        if current and len(current) + len(unit) + 2 > max_chars:
            pieces.append(current)
            current = unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


def chunk_document(doc: KnowledgeDocument, max_chars: int = 900, id_prefix: str | None = None) -> list[Chunk]:
    prefix = id_prefix or f"{doc.kind}:{content_hash(doc.source)}"
    chunks: list[Chunk] = []
    for heading_path, section in _sections(doc.body) or [([doc.title], doc.body.strip())]:
        if not section:
            continue
        path = heading_path or [doc.title]
        for piece in _split_long(section, max_chars):
            index = len(chunks)
            label = " > ".join(path)
            meta = dict(doc.metadata)
            meta.update(source=doc.source, kind=doc.kind, title=doc.title, heading=label,
                        chunk_index=index, source_hash=doc.content_hash)
            chunk_id = f"{prefix}:{index}"
            chunks.append(Chunk(id=chunk_id, text=f"{label}\n{piece}", body=piece, heading_path=path, metadata=meta))
    return chunks
