"""The comedy technique catalogue (knowledge/comedy/techniques.yaml) and the choice of one for a scene.

A technique is eligible when the scene offers everything it needs (SceneFacts.offers); among those, the
choice prefers what the film's earlier parodies of this scene did not use, then the ones this film has not
used at all, then the best fit (how many of the things it likes the scene offers); the run's iteration
and the number of earlier parodies rotate among equals, so a second run of the same request takes
another technique.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field

CATALOGUE = Path(__file__).resolve().parents[2] / "knowledge" / "comedy" / "techniques.yaml"
SLOTS = ("open", "action", "said", "look", "still", "cut", "loud", "place", "close")


class Technique(BaseModel):
    id: str
    name: str
    needs: list[str] = Field(default_factory=list)
    likes: list[str] = Field(default_factory=list)
    voice: Literal["narrator", "lead", "mixed"] = "narrator"
    redub: bool = False
    sound: str = "rimshot"
    lines: dict[str, list[str]] = Field(default_factory=dict)
    caption: list[str] = Field(default_factory=list)


class Catalogue(BaseModel):
    techniques: list[Technique]
    common: dict[str, list[str]]
    actions: dict[str, list[str]]


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    return Catalogue.model_validate(yaml.safe_load(CATALOGUE.read_text(encoding="utf-8")))


def technique(name_or_id: str) -> Technique | None:
    low = name_or_id.lower().strip()
    return next((t for t in catalogue().techniques if low in (t.id, t.name.lower())), None)


def asked_for(request: str, tone: str) -> Technique | None:
    """A technique the user named ("as a nature documentary", tone "sports commentary")."""
    text = f" {request} {tone} ".lower().replace("-", " ")
    for t in catalogue().techniques:
        if f" {t.name.lower().replace('-', ' ')} " in text or f" {t.id.replace('_', ' ')} " in text:
            return t
    return None


def choose(offers: set[str], used_here: list[str], used_in_film: list[str], iteration: int = 0,
           key: str = "", voiced: bool = False) -> Technique:
    """The technique for a scene offering `offers` (see the module docstring for the order); `voiced`: the user
    named characters to voice, so a technique where only a narrator speaks is not taken."""
    techs = [t for t in catalogue().techniques if not voiced or t.voice != "narrator"]
    pool = [t for t in techs if set(t.needs) <= offers] or \
        [t for t in techs if set(t.needs) <= offers | {"character", "place"}]
    runs = len(used_here)

    def rank(t: Technique) -> tuple:
        spin = int(hashlib.sha256(f"{key}|{t.id}|{iteration + runs}".encode()).hexdigest()[:8], 16)
        return (t.id in used_here, used_in_film.count(t.id), -len(set(t.likes) & offers), spin)

    return min(pool, key=rank)
