"""Per-frame quality measurements (pure functions; run in worker processes).

Measuring is the slow part and depends only on the frame, so its results are cached per frame;
the keep/drop decisions (filter.py) are cheap and re-made whenever a threshold changes.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import imagehash
import numpy as np
from PIL import Image

from tools.media.images import read_image

MEASURE_VERSION = 3  # bump when a measurement changes meaning, so cached scores are recomputed
_MAX_SIDE = 640  # measure at a fixed scale so thresholds do not depend on the film's resolution


def _fit(img: np.ndarray, max_side: int = _MAX_SIDE) -> np.ndarray:
    h, w = img.shape[:2]
    scale = max_side / max(h, w)
    return cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else img


def blur_score(gray: np.ndarray) -> float:
    """Variance of the Laplacian: low when edges are soft (motion blur, defocus, dissolves)."""
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def exposure(gray: np.ndarray) -> dict[str, float]:
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    cdf = np.cumsum(hist) / max(hist.sum(), 1)
    mean = float((hist * np.arange(256)).sum() / max(hist.sum(), 1)) / 255
    return {"brightness": round(mean, 4), "p95": round(int(np.searchsorted(cdf, 0.95)) / 255, 4),
            "p05": round(int(np.searchsorted(cdf, 0.05)) / 255, 4)}


def title_card_features(img: np.ndarray) -> dict[str, float]:
    """Evidence for a title/credit card: a mostly flat background and many small glyph-like blobs.

    flat_fraction: share of pixels within a small distance of the dominant colour.
    glyphs: connected components of the non-background mask that are letter-sized
    (small, roughly compact); a drawn character is a few big components instead.
    """
    small = cv2.resize(img, (160, max(1, round(160 * img.shape[0] / img.shape[1]))), interpolation=cv2.INTER_AREA)
    q = (small // 16).reshape(-1, 3)
    keys = q[:, 0].astype(np.int32) * 256 + q[:, 1].astype(np.int32) * 16 + q[:, 2]
    dominant = np.bincount(keys).argmax()
    bg = np.array([dominant // 256, (dominant // 16) % 16, dominant % 16], np.int32) * 16 + 8
    lo, hi = np.clip(bg - 30, 0, 255).astype(np.uint8), np.clip(bg + 30, 0, 255).astype(np.uint8)
    background = cv2.inRange(img, lo, hi) > 0  # within ±30 per channel of the dominant colour
    flat = float(background.mean())
    mask = (~background).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    stats = stats[1:]
    area = img.shape[0] * img.shape[1]
    a = stats[:, cv2.CC_STAT_AREA]
    side = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    glyphs = int(((a >= 8) & (a <= area * 0.004) & (side <= img.shape[0] * 0.15)).sum())
    return {"flat_fraction": round(flat, 4), "glyphs": glyphs}


def score_frame_file(path: str) -> dict[str, object]:
    """Everything the filter decides on (blur, exposure, title-card features, phash), for one frame file."""
    return score_frame(read_image(path))


def score_frame(img: np.ndarray) -> dict[str, object]:
    """The same for a decoded BGR frame (extraction measures frames while they are in memory)."""
    img = _fit(img)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    # phash works on a 32×32 grey image; shrinking with OpenCV first avoids PIL's slow full-size resample.
    tiny = Image.fromarray(cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA))
    return {"blur": round(blur_score(gray), 2), **exposure(gray), **title_card_features(img),
            "phash": str(imagehash.phash(tiny, hash_size=8)), "version": MEASURE_VERSION}


def measure_fingerprint(item, path: Path) -> str:
    """Cached scores stay valid while the frame file (size, mtime) and MEASURE_VERSION are unchanged."""
    from tools.dataset.metadata import fingerprint

    try:
        st = path.stat()
        stat = (st.st_size, st.st_mtime_ns)
    except OSError:
        stat = None
    return fingerprint(item.stages["extract"].fingerprint, MEASURE_VERSION, stat)


def phash_distance(a: str, b: str) -> int:
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))
