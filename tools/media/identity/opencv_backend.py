"""Offline identity backend: Haar-cascade faces + figure blobs, colour/shape descriptors.

Drawn characters are recognised far better by their palette and silhouette than by a face
model trained on photos, so each region is described by a hue/saturation histogram (Hellinger
normalised) concatenated with a HOG of its grey crop. Good for flat-shaded 2D characters with
distinct palettes; weak for look-alike palettes, heavy lighting changes and photoreal faces.
"""
from __future__ import annotations

import cv2
import numpy as np

from tools.media.identity.regions import Region

_HOG = cv2.HOGDescriptor((64, 64), (16, 16), (8, 8), (8, 8), 9)
_COLOUR_WEIGHT = 0.75  # palette dominates identity for drawn characters; shape breaks ties


def describe(crop: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)
    # Ignore near-grey pixels for hue (outlines, shadows): they say little about who it is.
    mask = (hsv[..., 1] > 40).astype(np.uint8)
    if mask.sum() < 0.05 * mask.size:
        mask = None
    hist = cv2.calcHist([hsv], [0, 1], mask, [18, 4], [0, 180, 40, 256]).ravel()
    hist = np.sqrt(hist / max(hist.sum(), 1e-9))  # Hellinger: dot product = Bhattacharyya coefficient
    gray = cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), (64, 64), interpolation=cv2.INTER_AREA)
    hog = _HOG.compute(gray).ravel()
    hog = hog / max(float(np.linalg.norm(hog)), 1e-9)
    vec = np.concatenate([np.sqrt(_COLOUR_WEIGHT) * hist, np.sqrt(1 - _COLOUR_WEIGHT) * hog]).astype(np.float32)
    return vec / max(float(np.linalg.norm(vec)), 1e-9)


def _background_mask(img: np.ndarray) -> np.ndarray:
    """Pixels close to the colour that dominates the frame border (the backdrop)."""
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]]).reshape(-1, 3)
    q = (border // 24).astype(np.int32)
    keys = q[:, 0] * 4096 + q[:, 1] * 64 + q[:, 2]
    mode = np.bincount(keys).argmax()
    bg = border[keys == mode].mean(axis=0)
    return np.abs(img.astype(np.float32) - bg).sum(axis=2) < 60


class OpenCVBackend:
    name = "opencv"
    default_threshold = 0.5  # Bhattacharyya-like similarity of palette + shape descriptors

    def __init__(self, min_region_fraction: float = 0.01, max_regions: int = 6):
        self.min_fraction = min_region_fraction
        self.max_regions = max_regions
        self._faces = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def _figure_boxes(self, img: np.ndarray) -> list[tuple[int, int, int, int]]:
        fg = (~_background_mask(img)).astype(np.uint8)
        # Opening removes outlines and thin props (a horizon line would weld figures together);
        # closing then rejoins a figure's parts split by its own inner outlines.
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        area = img.shape[0] * img.shape[1]
        boxes = [tuple(int(v) for v in stats[i, :4]) for i in range(1, n)
                 if stats[i, cv2.CC_STAT_AREA] >= self.min_fraction * area and stats[i, cv2.CC_STAT_AREA] < 0.9 * area]
        boxes.sort(key=lambda b: -b[2] * b[3])
        return boxes[: self.max_regions]

    def _face_boxes(self, img: np.ndarray) -> list[tuple[int, int, int, int]]:
        gray = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
        side = min(img.shape[:2])
        found = self._faces.detectMultiScale(gray, scaleFactor=1.15, minNeighbors=5,
                                             minSize=(max(24, side // 12),) * 2)
        return [tuple(int(v) for v in f) for f in found]

    def regions(self, img: np.ndarray) -> list[Region]:
        out: list[Region] = []
        figures = self._figure_boxes(img)
        for box, kind in [(b, "figure") for b in figures] + [(b, "face") for b in self._face_boxes(img)]:
            if kind == "face" and any(_inside(box, f) for f in figures):
                continue  # the figure already covers this face
            x, y, w, h = box
            crop = img[y:y + h, x:x + w]
            if crop.size:
                out.append(Region(box=box, embedding=describe(crop), kind=kind))
        return out

    def reference(self, img: np.ndarray) -> np.ndarray | None:
        regions = [r for r in self.regions(img) if r.kind == "figure"] or self.regions(img)
        if not regions:
            return describe(img)  # a tight crop of the character: use all of it
        best = max(regions, key=lambda r: r.box[2] * r.box[3])
        return best.embedding


def _inside(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax >= bx - 4 and ay >= by - 4 and ax + aw <= bx + bw + 4 and ay + ah <= by + bh + 4
