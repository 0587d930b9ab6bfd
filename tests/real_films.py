"""Real films nobody on the project made (../shared/films beside the project root): found or None."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_film(name: str) -> Path | None:
    """`../shared/films/<name>` from the project root (a checkout) or its parent (a worktree folder)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "films" / name
        if path.is_file():
            return path
    return None


SINTEL = shared_film("sintel_trailer.mp4")
