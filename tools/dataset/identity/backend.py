"""The identity-backend interface, backend selection and reference matching."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from tools.core.types import ToolError


@dataclass
class Region:
    box: tuple[int, int, int, int]  # x, y, w, h
    embedding: np.ndarray  # L2-normalised
    kind: str  # "face" | "figure"


class IdentityBackend(Protocol):
    name: str

    def regions(self, img: np.ndarray) -> list[Region]:
        """Faces/figures found in a BGR frame, each with an identity embedding."""

    def reference(self, img: np.ndarray) -> np.ndarray | None:
        """The embedding of the character shown in a reference image (None if none found)."""


def insightface_pack_dir(settings) -> Path | None:
    root = settings.dataset.insightface_root
    if root is None:
        return None
    from tools.core.settings.loader import resolve_path

    pack = resolve_path(root) / "models" / settings.dataset.insightface_model
    return pack if pack.is_dir() and any(pack.glob("*.onnx")) else None


def get_backend(settings, name: str | None = None) -> IdentityBackend:
    """`auto` → insightface when installed and its model pack is present, else the OpenCV backend."""
    choice = name or settings.dataset.identity_backend
    if choice in ("insightface", "auto"):
        try:
            import insightface  # noqa: F401  (a GPU extra; imported lazily)
            available = True
        except ImportError:
            available = False
        pack = insightface_pack_dir(settings) if available else None
        if pack is not None:
            from tools.dataset.identity.arcface import InsightFaceBackend

            return InsightFaceBackend(settings)
        if choice == "insightface":
            model = settings.dataset.insightface_model
            if not available:
                raise ToolError("identity_backend is 'insightface' but the insightface package is not installed",
                                "pip install '.[gpu]' (insightface + onnxruntime-gpu), or set dataset.identity_backend: opencv")
            raise ToolError(
                f"insightface model pack {model!r} not found (dataset.insightface_root="
                f"{settings.dataset.insightface_root}); it is never downloaded at run time",
                f"unzip {model}.zip so that <insightface_root>/models/{model}/*.onnx exists, "
                "or set dataset.identity_backend: opencv")
    from tools.dataset.identity.opencv_backend import OpenCVBackend

    return OpenCVBackend(min_region_fraction=settings.dataset.min_region_fraction)


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
