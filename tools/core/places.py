"""The place vocabulary (tools/core/places.yaml): which words name a place, and what in a scene's facts
shows the scene is there ("green vegetation: forest, trees" → forest). One list for the script's place
words and for request_fit's check, so a scorer never blames a place word the scene's own facts imply."""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml


@lru_cache(maxsize=1)
def place_kinds() -> dict[str, dict[str, frozenset[str]]]:
    data = yaml.safe_load(Path(__file__).with_name("places.yaml").read_text(encoding="utf-8"))
    return {kind: {k: frozenset(str(w).lower() for w in v) for k, v in entry.items()} for kind, entry in data.items()}


def stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ]+", text or "")}


def place_nouns() -> frozenset[str]:
    return frozenset().union(*(k["nouns"] for k in place_kinds().values()))


def kinds_named(word: str) -> set[str]:
    """The kinds a place noun names ("woods" → forest)."""
    w = stem(word.lower())
    return {kind for kind, entry in place_kinds().items() if w in {stem(n) for n in entry["nouns"]}}


def kinds_evidenced(texts: Iterable[str]) -> set[str]:
    """The kinds of place the texts (a scene's facts, the request) show."""
    seen = {stem(w) for t in texts for w in words(t)}
    return {kind for kind, entry in place_kinds().items() if seen & {stem(e) for e in entry["evidence"]}}
