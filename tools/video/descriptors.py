"""Per-frame colour/content measures and their per-scene aggregation (OpenCV + numpy, small frames).

Frames arrive already downscaled (analysis width, e.g. 320 px), so each measure costs well under a
millisecond. HSV ranges use OpenCV's scale: hue 0–180, saturation and value 0–255.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

from tools.video.models import ColorShare, SceneDescriptors

# Named palette for "dominant colours": words a user would type, matched in CIE Lab.
PALETTE: dict[str, tuple[int, int, int]] = {  # RGB
    "black": (15, 15, 15), "dark gray": (70, 70, 70), "gray": (128, 128, 128), "white": (240, 240, 240),
    "red": (200, 30, 30), "dark red": (110, 20, 25), "orange": (240, 130, 40), "brown": (120, 75, 40),
    "yellow": (235, 215, 50), "sand beige": (220, 195, 140), "green": (50, 160, 50),
    "dark green": (25, 80, 35), "olive": (120, 130, 50), "cyan": (40, 200, 210), "teal": (20, 120, 130),
    "light blue": (140, 195, 240), "blue": (30, 90, 200), "navy": (15, 25, 80), "purple": (120, 50, 150),
    "pink": (240, 140, 180),
}
_NAMES = list(PALETTE)


@lru_cache(maxsize=1)
def _palette_lab() -> np.ndarray:
    rgb = np.array([PALETTE[n] for n in _NAMES], dtype=np.uint8).reshape(-1, 1, 3)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)


@dataclass
class FrameMeasures:
    """What one sampled frame contributes to its scene."""

    frame: int
    brightness: float
    saturation: float
    contrast: float
    water: float
    sky: float
    vegetation: float
    sand: float
    warm: float
    dark: float
    lights: float
    edges: float
    palette_counts: np.ndarray  # counts per PALETTE entry on a 32-px-wide thumbnail
    snow: float = 0.0  # white-grey, unsaturated, light: snow, ice, fog


def _ratio(mask: np.ndarray) -> float:
    return float(np.count_nonzero(mask)) / max(mask.size, 1)


def describe_frame(frame_bgr: np.ndarray, frame_index: int) -> FrameMeasures:
    """Colour and content measures of one downscaled frame (what scene descriptors are built from)."""
    hsv = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    rows = frame_bgr.shape[0]
    top, bottom = slice(0, rows // 3), slice(rows // 3, rows)
    blue_cyan = (h >= 85) & (h <= 130)
    water = blue_cyan[bottom] & (s[bottom] > 70) & (v[bottom] > 40)
    sky = blue_cyan[top] & (s[top] > 15) & (v[top] > 140)
    vegetation = (h >= 35) & (h < 85) & (s > 60) & (v > 35)
    sand = (h >= 10) & (h <= 30) & (s >= 40) & (s <= 160) & (v > 140)
    warm = (h >= 5) & (h <= 25) & (s > 110) & (v > 120)  # orange-amber, not pure red
    dark = v < 50
    snow = (s < 40) & (v > 110)
    gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    edges = cv2.Canny(gray, 80, 160)
    # "Lights": bright warm points in an otherwise dark frame (windows, lamps at night).
    dark_share = _ratio(dark)
    lights = _ratio((v > 180) & (h < 35) & (s > 60)) if float(v.mean()) < 0.35 * 255 else 0.0
    small = cv2.resize(frame_bgr, (32, max(1, round(32 * rows / frame_bgr.shape[1]))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    nearest = np.argmin(((lab[:, None, :] - _palette_lab()[None, :, :]) ** 2).sum(-1), axis=1)
    counts = np.bincount(nearest, minlength=len(_NAMES)).astype(np.float32)
    return FrameMeasures(
        frame=frame_index, brightness=float(v.mean()) / 255.0, saturation=float(s.mean()) / 255.0,
        contrast=float(gray.std()) / 128.0, water=_ratio(water) * 2 / 3, sky=_ratio(sky) / 3,
        vegetation=_ratio(vegetation), sand=_ratio(sand), warm=_ratio(warm), dark=dark_share, lights=lights,
        edges=_ratio(edges), palette_counts=counts, snow=_ratio(snow),
    )


@dataclass
class SceneAccumulator:
    """Collects sampled-frame measures and per-frame motion for one scene."""

    measures: list[FrameMeasures] = field(default_factory=list)
    motion: list[float] = field(default_factory=list)

    def descriptors(self, faces: int | None, loudness: tuple[float, float] | None) -> SceneDescriptors:
        ms = self.measures
        if not ms:
            return SceneDescriptors(brightness=0.0, saturation=0.0, contrast=0.0, faces=faces)

        def mean(attr: str) -> float:
            return round(float(np.mean([getattr(m, attr) for m in ms])), 4)

        counts = np.sum([m.palette_counts for m in ms], axis=0)
        shares = counts / max(counts.sum(), 1.0)
        order = np.argsort(-shares)
        colors = [ColorShare(name=_NAMES[i], hex="#%02x%02x%02x" % PALETTE[_NAMES[i]], share=round(float(shares[i]), 3))
                  for i in order[:4] if shares[i] >= 0.05]
        motion = round(float(np.mean(self.motion)), 4) if self.motion else 0.0
        return SceneDescriptors(
            brightness=mean("brightness"), saturation=mean("saturation"), contrast=mean("contrast"),
            dominant_colors=colors, water_ratio=mean("water"), sky_ratio=mean("sky"),
            vegetation_ratio=mean("vegetation"), sand_ratio=mean("sand"), warm_ratio=mean("warm"),
            dark_ratio=mean("dark"), lights_ratio=mean("lights"), motion_energy=motion, edge_density=mean("edges"),
            snow_ratio=mean("snow"),
            faces=faces, loudness_db=None if loudness is None else loudness[0],
            peak_db=None if loudness is None else loudness[1],
        )


_CASCADE: cv2.CascadeClassifier | None = None


def count_faces(frame_bgr: np.ndarray) -> int | None:
    """Frontal faces on one frame with OpenCV's bundled Haar cascade; None when it is unavailable."""
    global _CASCADE
    if _CASCADE is None:
        path = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if not path:
            return None
        cascade = cv2.CascadeClassifier(str(path) + "haarcascade_frontalface_default.xml")
        if cascade.empty():
            return None
        _CASCADE = cascade
    gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    if gray.shape[1] < 320:  # the cascade's 24-px window needs some resolution
        scale = 320 / gray.shape[1]
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    gray = cv2.equalizeHist(gray)
    faces = _CASCADE.detectMultiScale(gray, scaleFactor=1.15, minNeighbors=5, minSize=(20, 20))
    return len(faces)
