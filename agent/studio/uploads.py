"""Films uploaded through the studio: size-limited, checked by probing, stored in the media library.

The name the browser sends is only a hint: it is reduced to a plain file name (spaces and accents
kept, separators and control characters not), and a file that ffprobe does not see a video stream
in is deleted again. Uploads go to `<first media root>/<studio.upload_dir>/`, so runs may read them
like any film of the library.
"""
from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path
from typing import BinaryIO

from tools.core.settings import Settings
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi"}
CHUNK = 1 << 20


class UploadError(ValueError):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def safe_filename(name: str) -> str:
    """A plain file name from a client's: no folders, no control characters, no leading dots."""
    name = unicodedata.normalize("NFC", Path(str(name).replace("\\", "/")).name)
    name = re.sub(r"[\x00-\x1f\x7f/:*?\"<>|]+", "_", name).strip().lstrip(".")
    stem, suffix = Path(name).stem[:120].strip(), Path(name).suffix.lower()
    return f"{stem or 'upload'}{suffix}"


def upload_folder(settings: Settings) -> Path:
    if not settings.paths.media_roots:
        raise UploadError(400, "no media library to store uploads in (paths.media_roots is empty)")
    folder = resolve_path(settings.paths.media_roots[0]) / settings.studio.upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(stream: BinaryIO, filename: str, settings: Settings) -> Path:
    """Copy an uploaded film into the library; raise UploadError (413, 415) when it is not acceptable."""
    name = safe_filename(filename or "upload.mp4")
    if Path(name).suffix not in VIDEO_SUFFIXES:
        raise UploadError(415, f"{name!r} is not a video file name (expected one of {sorted(VIDEO_SUFFIXES)})")
    folder = upload_folder(settings)
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{Path(name).stem}_{n}{Path(name).suffix}"
        n += 1
    limit = int(settings.studio.max_upload_mb * 1e6)
    partial = target.with_name(target.name + ".part")
    written = 0
    try:
        with partial.open("wb") as out:
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise UploadError(413, f"the upload passed the limit of {settings.studio.max_upload_mb:g} MB "
                                           "(studio.max_upload_mb)")
                out.write(chunk)
        if written == 0:
            raise UploadError(415, f"{name!r} is empty")
        _probe(partial, name, settings)
        shutil.move(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _probe(path: Path, name: str, settings: Settings) -> None:
    from tools.media.probe import media_info

    try:
        info = media_info(path, settings.video.ffprobe)
    except ToolError as exc:
        raise UploadError(415, f"{name!r} is not a readable video: {exc.message}") from None
    if not info.has_video:
        raise UploadError(415, f"{name!r} has no video stream")


def library_films(settings: Settings, limit: int = 500) -> list[dict]:
    """Video files in the media roots, for the new-request page and GET /media. A link that leads out
    of its root is not listed (a run would refuse it)."""
    films: list[dict] = []
    for root in settings.paths.media_roots:
        base = resolve_path(root).resolve()
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file() and not path.name.startswith(".") \
                    and base in path.resolve().parents:
                films.append({"name": str(path.relative_to(base)), "root": str(base), "path": str(path),
                              "size_mb": round(path.stat().st_size / 1e6, 2)})
                if len(films) >= limit:
                    return films
    return films
