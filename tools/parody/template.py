"""The scene's words for a parody: its place (and words that suit it) and generic roles for the cast.

The place comes from the user's scene words, then the scene's description (tools/parody/templates.yaml);
generic roles are named after what the user described ("the big bunny" → Big Bunny, "where she says"
→ Our Heroine) when no character name is known. The comedy techniques themselves live in
knowledge/comedy/techniques.yaml (tools/parody/techniques.py).
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml


TEMPLATES = Path(__file__).with_name("templates.yaml")
FALLBACK_LEAD = "Our Hero"
FALLBACK_SECOND = "A Passing Stranger"


@lru_cache(maxsize=1)
def templates() -> dict:
    return yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))


def _has(text: str, word: str) -> bool:
    return re.search(r"(?<![\w'])" + re.escape(word) + r"(?!\w)", text) is not None


def place_of(*texts: str) -> dict[str, str]:
    """The place words of the scene: the first text (the user's own words) that names a place wins."""
    data = templates()
    for text in texts:
        low = (text or "").lower()
        for entry in data["places"]:
            if any(_has(low, key) for key in entry["keys"]):
                return {k: v for k, v in entry.items() if k != "keys"}
    return dict(data["default_place"])


def place_from(description: str) -> str:
    """A noun phrase for the scene's place ("snow, ice or fog…" → "the snowy mountains")."""
    return place_of(description)["place"]


_ARTICLE = r"\b(?:(?:the|a|an|his|her|their|il|la|lo|un|una|uno)\s+|l['’])"


def generic_roles(*texts: str, limit: int = 2) -> list[str]:
    """Roles named after the living things the texts mention: "the big bunny wakes up" → "Big Bunny"."""
    data = templates()
    nouns = {w: w for w in data["animate"]} | dict(data["animate_it"])
    pattern = re.compile(_ARTICLE + r"((?:[a-zà-ù]+\s+){0,2}?)(" + "|".join(sorted(nouns, key=len, reverse=True))
                         + r")s?\b")
    found: list[str] = []
    for text in texts:
        for m in pattern.finditer((text or "").lower()):
            adjectives = [w for w in m.group(1).split() if w not in nouns and len(w) > 2]
            role = " ".join(w.capitalize() for w in [*adjectives, *nouns[m.group(2)].split()])
            if role not in found:
                found.append(role)
            if len(found) >= limit:
                return found
    if not found:  # "the scene where she says…": Our Heroine
        for text in texts:
            m = re.search(r"\b(" + "|".join(data["pronouns"]) + r")\b", (text or "").lower())
            if m:
                return [data["pronouns"][m.group(1)]]
    return found
