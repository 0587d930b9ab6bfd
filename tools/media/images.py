"""Reading an image file into the array every OpenCV-based step uses (dataset stages, identity
backends, the image family's consistency score)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def read_image(path: Path | str) -> np.ndarray:
    """BGR uint8; raises ValueError for unreadable/corrupt files (the stage records and skips them)."""
    data = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile + imdecode: unicode paths work
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise ValueError(f"{Path(path).name} is not a readable image")
    return img
