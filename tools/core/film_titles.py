"""Is a knowledge document about this film? The document's `film` title against the film file's name.

One rule for every reader of the knowledge base's film metadata (the parody's cast, the quality gate's known
names, the planner's check of a name the model filled in): the words of three letters or more, without
"the", "trailer", "film"...; they match when at least half of the shorter side's words are shared
("the_tide_keeper.mp4" is "The Tide Keeper"; "sintel_trailer.mp4" is not "Luca").
"""
from __future__ import annotations

import re
from pathlib import Path

_STOP = frozenset({"the", "and", "trailer", "film", "movie", "clip", "scene"})


def title_words(text: str) -> set[str]:
    """Words of a title or of a file name ("sintel_trailer.mp4" → {"sintel"})."""
    text = Path(text).stem if re.search(r"\.[A-Za-z0-9]{2,4}$", text.strip()) else text
    return {w for w in re.findall(r"[^\W\d_]{3,}", text.lower().replace("_", " ")) if w not in _STOP}


def same_film(film: str, title: str) -> bool:
    """Does the knowledge title `title` (a document's `film`) name the film `film` (a path or a title)?"""
    a, b = title_words(film), title_words(title)
    if not a or not b:
        return False
    return len(a & b) >= max(1, min(len(a), len(b)) / 2)
