"""Character consistency: does a generated image show the character of the reference pictures?

Each image is compared with the character's references (`refs/<character>/*.png|jpg`, under
`image.character_refs_dir`, plus the preset's `reference_images`) by an identity backend chosen on
the references themselves (`auto`: face embeddings when YuNet finds faces in them, the colour/HOG
descriptor for flat 2D characters; insightface when the user set `dataset.insightface_root`). The
similarity is the best cosine between any face/figure in the image and any reference; an image
scores 1.0 at or above the backend's same-character threshold and proportionally less below it.

Plain functions, so the quality gate can call `score_consistency(settings, images, refs)` or use
`identity_fn(settings, character)` as its image → score callable.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}


class ImageConsistency(BaseModel):
    image: str
    similarity: float | None  # best cosine to the references; None: no face/figure found
    score: float  # 1.0 at/above the backend's threshold, similarity/threshold below it, 0 when nothing found
    reason: str = ""


class ConsistencyReport(BaseModel):
    character: str = ""
    backend: str | None = None
    backend_reason: str = ""
    threshold: float | None = None
    references: int = 0
    score: float | None = None  # mean image score in [0, 1]; None when it could not be scored
    passed: bool | None = None  # every image at/above the threshold
    images: list[ImageConsistency] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)  # what is wrong, in words a user can act on

    def summary(self) -> str:
        if self.score is None:
            return f"character consistency not scored: {'; '.join(self.reasons) or 'no references'}"
        return (f"character consistency {self.score:.2f} ({self.backend}, threshold {self.threshold:g}, "
                f"{self.references} reference(s))" + (f": {'; '.join(self.reasons[:2])}" if self.reasons else ""))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


def reference_images(settings, character: str) -> list[Path]:
    """The preset's reference_images plus refs/<character>/ (folder name matched loosely: "Captain Brine",
    "captain_brine" and "captainbrine" are one character)."""
    from tools.media.character_presets import load_characters

    found: list[Path] = []
    preset = load_characters(settings).get(character.strip().lower())
    if preset is not None:
        found += [p for p in (resolve_path(r) for r in preset.reference_images) if p.is_file()]
    root = resolve_path(settings.image.character_refs_dir)
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and _slug(p.name) == _slug(character)):
            found += sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_EXTS)
    return list(dict.fromkeys(found))


def _embeddings(backend, path: Path, whole_image_fallback: bool) -> list[np.ndarray]:
    from tools.media.images import read_image

    img = read_image(path)
    embs = [r.embedding for r in backend.regions(img)]
    if not embs and whole_image_fallback:  # a figure on a plain background: describe all of it
        ref = backend.reference(img)
        embs = [ref] if ref is not None else []
    return embs


class ConsistencyScorer:
    """A backend and the references' embeddings, prepared once; then any number of images."""

    def __init__(self, settings, refs: list[Path], character: str = ""):
        from tools.media.identity.choice import choose_backend, threshold_for
        from tools.media.images import read_image

        self.report = ConsistencyReport(character=character, references=len(refs))
        self.backend = None
        self.ref_embs: list[np.ndarray] = []
        if not refs:
            where = resolve_path(settings.image.character_refs_dir) / (character or "<character>")
            self.report.reasons.append(f"no reference images of {character or 'the character'} (add some to {where}/)")
            return
        try:
            choice = choose_backend(settings, list(refs))
        except ToolError as exc:
            self.report.reasons.append(f"no identity backend: {exc.message}")
            return
        self.backend, self.threshold = choice.backend, threshold_for(settings, choice.backend)
        self.report.backend, self.report.backend_reason = choice.backend.name, choice.reason
        self.report.threshold = self.threshold
        for ref in refs:
            try:
                emb = self.backend.reference(read_image(ref))
            except ValueError:
                emb = None
            if emb is not None:
                self.ref_embs.append(emb)
        if not self.ref_embs:
            self.report.reasons.append(f"the {self.backend.name} backend found no face or figure in the "
                                       f"{len(refs)} reference image(s)")

    @property
    def ready(self) -> bool:
        return bool(self.ref_embs)

    def score_image(self, path: Path) -> ImageConsistency:
        name = Path(path).name
        try:
            embs = _embeddings(self.backend, Path(path), whole_image_fallback=self.backend.name == "opencv")
        except ValueError as exc:
            return ImageConsistency(image=name, similarity=None, score=0.0, reason=f"unreadable: {exc}")
        if not embs:
            what = "figure" if self.backend.name == "opencv" else "face"
            return ImageConsistency(image=name, similarity=None, score=0.0, reason=f"no {what} found")
        sim = max(float(e @ r) for e in embs for r in self.ref_embs)
        if sim >= self.threshold:
            return ImageConsistency(image=name, similarity=round(sim, 4), score=1.0)
        return ImageConsistency(image=name, similarity=round(sim, 4), score=round(max(0.0, sim / self.threshold), 4),
                                reason=f"similarity {sim:.2f} < {self.threshold:g}: does not look like the references")

    def score(self, images: list[Path]) -> ConsistencyReport:
        report = self.report.model_copy(deep=True)
        if not self.ready:
            return report
        if not images:
            report.reasons.append("no images to score")
            return report
        report.images = [self.score_image(p) for p in images]
        report.score = round(float(np.mean([i.score for i in report.images])), 4)
        report.passed = all(i.similarity is not None and i.similarity >= self.threshold for i in report.images)
        report.reasons += [f"{i.image}: {i.reason}" for i in report.images if i.reason]
        return report


def score_consistency(settings, images: list[Path], refs: list[Path], character: str = "") -> ConsistencyReport:
    """Score `images` against the reference pictures `refs`. Never raises for content problems:
    missing references, unreadable files or unavailable models become reasons with score None."""
    return ConsistencyScorer(settings, refs, character).score(images)


def character_consistency(settings, images: list[Path], character: str) -> ConsistencyReport:
    """`score_consistency` against the character's own references (preset + refs/<character>/)."""
    return score_consistency(settings, images, reference_images(settings, character), character)


def identity_fn(settings, character: str) -> Callable[[Path], float] | None:
    """An image → score in [0, 1] callable for the quality gate (1.0 = looks like the character), or
    None when the character cannot be scored (no references, no backend): the check is then skipped."""
    scorer = ConsistencyScorer(settings, reference_images(settings, character), character)
    if not scorer.ready:
        return None
    return lambda path: scorer.score_image(Path(path)).score
