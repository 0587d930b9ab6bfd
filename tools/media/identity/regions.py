"""What every identity backend returns and how regions are matched to reference characters.

The backends (dnn_backend, opencv_backend, arcface) and the factory (choice.py) import this module;
it imports none of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Region:
    box: tuple[int, int, int, int]  # x, y, w, h
    embedding: np.ndarray  # L2-normalised
    kind: str  # "face" | "figure"
    score: float = 1.0  # detector confidence (1.0 where the detector has none)


class IdentityBackend(Protocol):
    name: str
    default_threshold: float  # cosine similarity from which two regions are the same character

    def regions(self, img: np.ndarray) -> list[Region]:
        """Faces/figures found in a BGR frame, each with an identity embedding."""

    def reference(self, img: np.ndarray) -> np.ndarray | None:
        """The embedding of the character shown in a reference image (None if none found)."""



def match_regions(embeddings: list[np.ndarray], refs: dict[str, list[np.ndarray]], threshold: float,
                  margin: float) -> list[tuple[str | None, float]]:
    """For each region: (best character or None, similarity). A match needs similarity >= threshold
    and a lead of `margin` over the runner-up character, so look-alikes stay unassigned."""
    out: list[tuple[str | None, float]] = []
    for emb in embeddings:
        scores = sorted(((max(float(emb @ r) for r in rs), name) for name, rs in refs.items() if rs), reverse=True)
        if not scores:
            out.append((None, 0.0))
            continue
        best, name = scores[0]
        second = scores[1][0] if len(scores) > 1 else -1.0
        out.append((name if best >= threshold and best - second >= margin else None, round(best, 4)))
    return out
