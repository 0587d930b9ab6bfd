"""Character names the run knows: the knowledge base's films and characters, and the film's transcript."""
from __future__ import annotations

import re
from typing import Any

_SPLIT = re.compile(r"\s*[,;]\s*")


def _names_of(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value or "").strip().strip("[]")
    return [n.strip(" '\"") for n in _SPLIT.split(text) if n.strip(" '\"")]


def known_names(kb: Any) -> tuple[list[str], list[str]]:
    """(character names, film titles) from the knowledge base's metadata; empty without one."""
    names: list[str] = []
    titles: list[str] = []
    store = getattr(kb, "store", None)
    if store is None:
        return names, titles
    try:
        for kind in ("characters", "films", "scenes"):
            if kind not in store.kinds():
                continue
            for meta in store.metadatas(kind):
                names += _names_of(meta.get("characters")) + _names_of(meta.get("character"))
                titles += _names_of(meta.get("film"))
    except Exception:  # a broken or locked store must not stop planning; the request still speaks
        return [], []
    titles = list(dict.fromkeys(titles))
    names = [n for n in dict.fromkeys(names) if n not in titles]
    return names, titles


def film_names(kb: Any, film: str) -> list[str]:
    """The character names of the knowledge base's documents about `film` (a path or title): the names a model
    may fill in for a run on that film. Another film's cast is not this one's (Luca's Giulia is no Sintel name)."""
    from tools.core.film_titles import same_film

    names: list[str] = []
    store = getattr(kb, "store", None)
    if store is None or not film:
        return names
    try:
        for kind in ("characters", "films", "scenes"):
            if kind not in store.kinds():
                continue
            for meta in store.metadatas(kind):
                if any(same_film(film, t) for t in _names_of(meta.get("film"))):
                    names += _names_of(meta.get("characters")) + _names_of(meta.get("character"))
    except Exception:  # a broken or locked store must not stop planning; the request still speaks
        return []
    return list(dict.fromkeys(names))
