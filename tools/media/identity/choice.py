"""Which identity backend a film gets (per film for `auto`), built once per library through a cache."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tools.core.types import ToolError
from tools.media.identity.regions import IdentityBackend

PROBE_FRAMES = 24  # frames YuNet looks at to decide dnn vs opencv for a film
PROBE_MIN_FACE_FRAMES = 2


@dataclass
class BackendChoice:
    backend: IdentityBackend
    reason: str  # why this backend (shown in the stage notes and results)


def threshold_for(settings, backend: IdentityBackend) -> float:
    configured = settings.dataset.identity_threshold
    return backend.default_threshold if configured is None else configured


def opencv_backend(settings) -> IdentityBackend:
    from tools.media.identity.opencv_backend import OpenCVBackend

    return OpenCVBackend(min_region_fraction=settings.dataset.min_region_fraction)


def dnn_backend(settings) -> IdentityBackend:
    from tools.media.identity.dnn_backend import DnnFaceBackend

    return DnnFaceBackend.from_settings(settings)


class BackendCache(Protocol):
    def get(self, key: object, build: Callable[[], IdentityBackend]) -> IdentityBackend: ...


def _insightface(settings) -> IdentityBackend:
    from tools.media.identity.arcface import InsightFaceBackend

    return InsightFaceBackend(settings)


def choose_backend(settings, samples: list[Path] | None = None, name: str | None = None,
                   cache: BackendCache | None = None) -> BackendChoice:
    """The backend for `name` (default dataset.identity_backend). `auto`: insightface when the user set
    dataset.insightface_root (opt-in: its models are non-commercial), else dnn when YuNet finds faces
    in the sample images (3D-animated films), else the colour/HOG opencv backend (flat 2D characters).
    With a `cache` (a film library), each backend is built once and reused for every later film."""
    key = settings.dataset.model_dump_json()

    def build(kind: str, make: Callable[[object], IdentityBackend]) -> IdentityBackend:
        return cache.get((kind, key), lambda: make(settings)) if cache is not None else make(settings)

    choice = name or settings.dataset.identity_backend
    if choice == "insightface":
        return BackendChoice(build("insightface", _insightface), "dataset.identity_backend=insightface")
    if choice == "dnn":
        return BackendChoice(build("dnn", dnn_backend), "dataset.identity_backend=dnn")
    if choice == "opencv":
        return BackendChoice(build("opencv", opencv_backend), "dataset.identity_backend=opencv")
    if settings.dataset.insightface_root is not None:
        return BackendChoice(build("insightface", _insightface), "auto: dataset.insightface_root is set")
    try:
        dnn = build("dnn", dnn_backend)
    except ToolError as exc:
        return BackendChoice(build("opencv", opencv_backend),
                             f"auto: opencv, the face models are unavailable ({exc.message})")
    if not samples:
        return BackendChoice(dnn, "auto: dnn (no frames to probe)")
    from tools.media.images import read_image

    k = min(PROBE_FRAMES, len(samples))
    picks = [samples[round(i * (len(samples) - 1) / max(1, k - 1))] for i in range(k)]  # evenly over the film
    with_faces = 0
    for path in dict.fromkeys(picks):
        try:
            with_faces += dnn.reference(read_image(path)) is not None  # pads tight crops (references)
        except ValueError:
            continue
    checked = len(dict.fromkeys(picks))
    need = max(1 if checked < 4 else PROBE_MIN_FACE_FRAMES, round(0.05 * checked))
    if with_faces >= need:
        return BackendChoice(dnn, f"auto: dnn, YuNet found faces in {with_faces} of {checked} probed images")
    return BackendChoice(build("opencv", opencv_backend), f"auto: opencv, YuNet found faces in only {with_faces} of "
                         f"{checked} probed images (flat 2D characters are matched by colour and shape)")


def get_backend(settings, name: str | None = None, samples: list[Path] | None = None) -> IdentityBackend:
    return choose_backend(settings, samples, name).backend
