"""insightface (ArcFace) backend: RetinaFace detection + 512-d ArcFace embeddings.

A GPU extra (`pip install '.[gpu]'`), imported lazily. The model pack must already sit in
dataset.insightface_root/models/<insightface_model>/: insightface would otherwise download it,
which this project never does silently (get_backend checks first).
"""
from __future__ import annotations

import numpy as np

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError
from tools.dataset.identity.backend import Region, insightface_pack_dir


class InsightFaceBackend:
    name = "insightface"

    def __init__(self, settings):
        if insightface_pack_dir(settings) is None:
            raise ToolError("insightface model pack missing", "set dataset.insightface_root (see docs/dataset.md)")
        from insightface.app import FaceAnalysis

        try:
            import torch

            ctx_id = 0 if torch.cuda.is_available() else -1
        except ImportError:
            ctx_id = -1
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if ctx_id == 0 else ["CPUExecutionProvider"]
        self.app = FaceAnalysis(name=settings.dataset.insightface_model,
                                root=str(resolve_path(settings.dataset.insightface_root)), providers=providers,
                                allowed_modules=["detection", "recognition"])
        self.app.prepare(ctx_id=ctx_id, det_size=(640, 640))

    def regions(self, img: np.ndarray) -> list[Region]:
        out = []
        for face in self.app.get(img):
            x1, y1, x2, y2 = (int(v) for v in face.bbox)
            emb = np.asarray(face.normed_embedding, dtype=np.float32)
            out.append(Region(box=(max(0, x1), max(0, y1), x2 - x1, y2 - y1), embedding=emb, kind="face"))
        return out

    def reference(self, img: np.ndarray) -> np.ndarray | None:
        faces = self.regions(img)
        return max(faces, key=lambda r: r.box[2] * r.box[3]).embedding if faces else None
