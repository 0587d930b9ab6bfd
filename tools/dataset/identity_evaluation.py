"""Measure identity backends on a hand-labelled frame set: face detection and identity precision/recall.

A labelled set is a folder with `labels.csv` (time_s, present, faces, file, note; `faces` names the
characters whose face is visible, `file` the stored frame when there is one) and `refs/<character>/`
reference crops. Frames come from the stored files, or are decoded from the film at `time_s` (the
whole set, when the film is at hand). Detection is judged per frame (a visible face ↔ at least one
face found); identity per (frame, character) pair for the characters that have references.
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tools.dataset.characters import load_references, precision_recall
from tools.media.identity.regions import IdentityBackend, Region, match_regions


@dataclass
class LabelledFrame:
    time_s: float
    faces: set[str]
    present: set[str]
    file: Path | None
    note: str = ""


@dataclass
class BackendScores:
    backend: str
    frames: int
    detection: dict[str, float]
    identity: dict[str, float]
    seconds_per_frame: float
    predicted: dict[float, set[str]] = field(default_factory=dict)  # frame time → matched characters


def load_labels(folder: Path, stored_only: bool = True) -> list[LabelledFrame]:
    out = []
    with (folder / "labels.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            file = folder / "frames" / row["file"] if row["file"] else None
            if stored_only and file is None:
                continue
            out.append(LabelledFrame(time_s=float(row["time_s"]), faces=set(row["faces"].split()),
                                     present=set(row["present"].split()), file=file, note=row["note"]))
    return out


def read_frames(frames: list[LabelledFrame], film: Path | None = None) -> list[np.ndarray]:
    """The stored frames, or (given the film) each decoded at its time: seek + read, as extraction does."""
    if film is None:
        return [cv2.imread(str(f.file)) for f in frames]
    cap = cv2.VideoCapture(str(film))
    out = []
    try:
        for f in frames:
            cap.set(cv2.CAP_PROP_POS_MSEC, f.time_s * 1000.0)
            ok, img = cap.read()
            if not ok:
                raise ValueError(f"cannot decode {film.name} at {f.time_s}s")
            out.append(img)
    finally:
        cap.release()
    return out


def detect_all(backend: IdentityBackend, images: list[np.ndarray]) -> tuple[list[list[Region]], float]:
    """Every frame's regions, and the seconds per frame that took (detection + embedding)."""
    start = time.perf_counter()
    regions = [backend.regions(img) for img in images]
    return regions, (time.perf_counter() - start) / max(1, len(images))


def score_regions(backend: IdentityBackend, frames: list[LabelledFrame], regions: list[list[Region]],
                  refs_dir: Path, threshold: float, margin: float = 0.03, seconds_per_frame: float = 0.0
                  ) -> BackendScores:
    _, refs, _ = load_references(refs_dir, backend)
    names = {n for n, embs in refs.items() if embs}
    found_face: dict[float, set[str]] = {}
    predicted: dict[float, set[str]] = {}
    for frame, found in zip(frames, regions):
        found_face[frame.time_s] = {"face"} if any(r.kind == "face" for r in found) else set()
        matches = match_regions([r.embedding for r in found], refs, threshold, margin)
        predicted[frame.time_s] = {name for name, _ in matches if name}
    detection = precision_recall(found_face, {f.time_s: {"face"} if f.faces else set() for f in frames})
    identity = precision_recall(predicted, {f.time_s: f.faces & names for f in frames})
    return BackendScores(backend=backend.name, frames=len(frames), detection=detection, identity=identity,
                         seconds_per_frame=seconds_per_frame, predicted=predicted)


def evaluate_backend(backend: IdentityBackend, frames: list[LabelledFrame], images: list[np.ndarray],
                     refs_dir: Path, threshold: float, margin: float = 0.03) -> BackendScores:
    regions, per_frame = detect_all(backend, images)
    return score_regions(backend, frames, regions, refs_dir, threshold, margin, per_frame)
