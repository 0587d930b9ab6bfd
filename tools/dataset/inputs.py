"""Checks on a dataset run's inputs, made before any stage runs (a bad --refs folder is reported
before minutes of extraction, not after) and before a dataset is reused for another film."""
from __future__ import annotations

from pathlib import Path

from tools.core.types import ToolError
from tools.dataset.metadata import DatasetStore, file_fingerprint
from tools.media.images import read_image

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


def check_references(refs_dir: Path) -> list[str]:
    """Raise when the folder cannot serve as references (missing, no character folders, a character
    with no readable image); return the unreadable files of an otherwise usable folder."""
    if not refs_dir.is_dir():
        raise ToolError(f"Reference folder not found: {refs_dir}", "make refs/<character>/*.png, one folder per character")
    folders = sorted(p for p in refs_dir.iterdir() if p.is_dir())
    if not folders:
        raise ToolError(f"{refs_dir} has no character folders", "make refs/<character>/*.png, one folder per character")
    unreadable: list[str] = []
    empty: list[str] = []
    for folder in folders:
        readable = 0
        for image in sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_EXTS):
            try:
                read_image(image)
                readable += 1
            except (ValueError, OSError):
                unreadable.append(f"{folder.name}/{image.name}")
        if not readable:
            empty.append(folder.name)
    if empty:
        detail = f" (unreadable: {', '.join(unreadable[:6])})" if unreadable else ""
        raise ToolError(f"no readable reference image for {', '.join(empty)} in {refs_dir}{detail}",
                        "put .png/.jpg images of each character in refs/<character>/")
    return unreadable


def check_same_film(store: DatasetStore, film: Path) -> None:
    """A dataset is made from one film: another film under the same name is refused, not mixed in.
    (The same file changed in place is the same film, re-extracted: see extract_frames.)"""
    meta = store.meta
    if not meta.film_fingerprint or not meta.film or not film.is_file():
        return
    same_path = Path(meta.film).resolve() == film.resolve()
    if not same_path and file_fingerprint(film) != meta.film_fingerprint:
        raise ToolError(f"dataset {meta.name!r} was made from {meta.film}, not {film}",
                        f"use another --name for this film, or delete {store.root} to start {meta.name!r} over")


def clear_frames(store: DatasetStore) -> int:
    """Delete the extracted frames and their features (when the film they came from changed)."""
    removed = 0
    for folder in ("frames", "features"):
        for path in (store.root / folder).glob("*") if (store.root / folder).is_dir() else []:
            if path.is_file():
                path.unlink()
                removed += 1
    return removed
