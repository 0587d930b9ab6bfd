"""Content fingerprints and the per-film analysis cache under paths.cache_dir/video/."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from tools.core.settings.loader import resolve_path

_CHUNK = 1 << 20


def film_fingerprint(path: Path, params: dict[str, Any]) -> str:
    """sha256 of size + mtime + three 1 MiB chunks (head, middle, tail) + the analysis parameters.

    Reading 3 MiB is instant on any film, and any re-encode or edit changes at least one chunk.
    """
    st = path.stat()
    h = hashlib.sha256()
    h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    with path.open("rb") as fh:
        for offset in (0, max(0, st.st_size // 2 - _CHUNK // 2), max(0, st.st_size - _CHUNK)):
            fh.seek(offset)
            h.update(fh.read(_CHUNK))
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    return h.hexdigest()[:24]


def cache_root(settings) -> Path:
    return resolve_path(settings.paths.cache_dir) / "video" / "scenes"


def load_entry(root: Path, fingerprint: str) -> dict[str, Any] | None:
    entry = root / fingerprint / "scenes.json"
    if not entry.is_file():
        return None
    try:
        return json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # a half-written or corrupt entry is recomputed, not fatal


def save_entry(root: Path, fingerprint: str, data: dict[str, Any], keyframes: dict[str, bytes]) -> Path:
    """Write atomically: a temp folder renamed into place, so readers never see half an entry."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{fingerprint}-", dir=root))
    (tmp / "keyframes").mkdir()
    for name, jpeg in keyframes.items():
        (tmp / "keyframes" / name).write_bytes(jpeg)
    (tmp / "scenes.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    final = root / fingerprint
    if final.exists():
        shutil.rmtree(final, ignore_errors=True)
    try:
        os.replace(tmp, final)
    except OSError:  # another process won the race; its entry is as good as ours
        shutil.rmtree(tmp, ignore_errors=True)
    return final
