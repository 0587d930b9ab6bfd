"""ControlNet conditioning images: Canny through OpenCV (no weights, the offline default), the other
annotators (depth, openpose, lineart, …) through controlnet-aux when it is installed.

controlnet-aux is an optional GPU extra (it pulls a CUDA torchvision that breaks a CPU-torch
environment), so it is imported lazily, only when a non-Canny preprocessor is asked for. Its
annotator weights must be local: `image.annotators_path` (a folder laid out like
lllyasviel/Annotators). A user can always pass a ready-made control map with preprocess=False.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError

# kind → (controlnet_aux class, needs annotator weights)
AUX_ANNOTATORS: dict[str, tuple[str, bool]] = {
    "depth": ("MidasDetector", True),
    "openpose": ("OpenposeDetector", True),
    "lineart": ("LineartDetector", True),
    "softedge": ("HEDdetector", True),
    "normal": ("NormalBaeDetector", True),
    "mlsd": ("MLSDdetector", True),
}
CONTROL_KINDS = ("canny", *AUX_ANNOTATORS)


def open_image(path: Path) -> Any:
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        raise ToolError(f"Control image not found: {path}")
    if path.stat().st_size == 0:
        raise ToolError(f"Control image {path.name} is empty (0 bytes)")
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ToolError(f"{path.name} is not a readable image ({exc})", "use a PNG or JPEG") from exc


def fit(image: Any, width: int, height: int) -> Any:
    """Resize + centre-crop to the generation size, keeping the aspect ratio (no stretching)."""
    from PIL import ImageOps

    return ImageOps.fit(image, (width, height))


def canny_map(image: Any, low_threshold: int = 100, high_threshold: int = 200) -> Any:
    """White edges on black, 3 channels — what SDXL Canny ControlNets were trained on."""
    import cv2
    import numpy as np
    from PIL import Image

    if not 0 <= low_threshold < high_threshold <= 1000:
        raise ToolError(f"invalid Canny thresholds {low_threshold}/{high_threshold}",
                        "use 0 <= low < high, e.g. 100/200")
    gray = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(gray, low_threshold, high_threshold)
    return Image.fromarray(np.stack([edges] * 3, axis=-1))


def _aux_annotator(kind: str, settings) -> Any:
    cls_name, needs_weights = AUX_ANNOTATORS[kind]
    try:
        aux = importlib.import_module("controlnet_aux")
    except ImportError as exc:
        raise ToolError(
            f"the {kind} preprocessor needs controlnet-aux, which is not installed",
            "on a GPU machine: pip install 'animation-ai-studio[gpu]'; or pass a ready-made "
            f"{kind} map with preprocess=false; Canny works without it",
        ) from exc
    cls = getattr(aux, cls_name)
    if not needs_weights:
        return cls()
    root = settings.image.annotators_path
    if root is None or not resolve_path(root).is_dir():
        raise ToolError(f"the {kind} preprocessor needs annotator weights: image.annotators_path is not set",
                        "set image.annotators_path to a local copy of lllyasviel/Annotators, or pass preprocess=false")
    try:
        return cls.from_pretrained(str(resolve_path(root)))
    except Exception as exc:  # controlnet-aux raises many kinds on missing files
        raise ToolError(f"could not load the {kind} annotator from {resolve_path(root)}: {str(exc)[:200]}",
                        "check that image.annotators_path holds the annotator checkpoints") from exc


def control_image(kind: str, source: Path, width: int, height: int, settings, *, preprocess: bool = True,
                  low_threshold: int = 100, high_threshold: int = 200) -> Any:
    """The conditioning image for one ControlNet, at the generation size."""
    if kind not in CONTROL_KINDS:
        raise ToolError(f"Unknown ControlNet type {kind!r}", f"choose one of {', '.join(CONTROL_KINDS)}")
    image = fit(open_image(source), width, height)
    if not preprocess:
        return image  # already a control map
    if kind == "canny":
        return canny_map(image, low_threshold, high_threshold)
    annotator = _aux_annotator(kind, settings)
    return fit(annotator(image).convert("RGB"), width, height)
