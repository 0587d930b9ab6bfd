"""The images scorer: sharpness (variance of the Laplacian) and, when an identity backend exists,
identity consistency against the character's reference images.

`identity` is any callable image → score in [0, 1] (tools/image/consistency.identity_fn: 1.0 when the
image matches the character's references at the identity backend's threshold). Without one, that
check is skipped and says so.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from tools.core.findings import Code
from tools.core.settings.sections import QualitySettings
from tools.quality.report import Check, ScoreReport, linear

IdentityFn = Callable[[Path], float]


def sharpness(path: Path, side: int = 512) -> float:
    """Variance of the Laplacian on a grey copy scaled to `side` px (so sizes compare)."""
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError("unreadable")
    scale = side / max(img.shape)
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return float(cv2.Laplacian(img, cv2.CV_64F).var())


def score_images(paths: list[Path], q: QualitySettings, identity: IdentityFn | None = None) -> ScoreReport:
    if not paths:
        return ScoreReport.skip("images", "no generated images to check")
    check = Check("images", q.scorer_pass)
    values: dict[str, float] = {}
    unreadable: list[str] = []
    for path in paths:
        try:
            values[path.name] = round(sharpness(path), 1)
        except (ValueError, cv2.error):
            unreadable.append(path.name)
    check.metrics["sharpness"] = values
    if unreadable:
        check.add(1 - len(unreadable) / len(paths), 2.0, f"unreadable or empty images: {', '.join(unreadable[:5])}",
                  Code.image_unreadable, hard=True)
    if values:
        blurry = [n for n, v in values.items() if v < q.sharpness_min]
        mean = float(np.mean([linear(v, q.sharpness_min, q.sharpness_min / 5) for v in values.values()]))
        check.add(mean, 1.0, f"{len(blurry)} blurry images (Laplacian variance < {q.sharpness_min:g}: "
                  f"{', '.join(blurry[:4])})", Code.image_blurry)
    if identity is None:
        check.metrics["identity"] = "skipped: no identity backend (dataset.identity_backend)"
    else:
        sims = {p.name: round(float(identity(p)), 3) for p in paths if p.name in values}
        off = [n for n, s in sims.items() if s < q.identity_min]
        check.metrics["identity"] = sims
        if sims:
            check.add(1 - len(off) / len(sims), 1.5, f"{len(off)} images do not look like the character "
                      f"(similarity < {q.identity_min:g}: {', '.join(off[:4])})", Code.image_off_identity)
    return check.report()
