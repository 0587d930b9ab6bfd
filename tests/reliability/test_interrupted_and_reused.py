"""Steps interrupted midway and names reused: nothing half-written is left beside a new result, a
dataset never mixes two films, and a bad --refs folder is reported before any extraction."""
from __future__ import annotations

import shutil

import pytest

from tools.core.child_processes import ChildFailed
from tools.core.types import ToolError


def test_an_interrupted_voice_leaves_no_half_written_wav(bounded_ctx, monkeypatch):
    from tools.audio import tts

    ctx = bounded_ctx(tts={"backend": "espeak"})
    audio = ctx.workspace.root / "audio"
    real = tts.finish_audio

    def killed_midway(src, dst, **kwargs):
        dst.write_bytes(b"RIFF" + bytes(64))  # what an encoder stopped halfway leaves
        raise ChildFailed("ffmpeg audio finishing", "signal", returncode=-9)

    monkeypatch.setattr(tts, "finish_audio", killed_midway)
    with pytest.raises(ToolError, match="SIGKILL"):
        tts.synthesize(ctx, "Hold the lantern higher.", output_name="line_0_00")
    assert not [p.name for p in audio.iterdir()]
    # a SIGKILL leaves the hidden work files (no cleanup runs): the resumed step reuses and removes them
    (audio / ".line_0_00.partial.wav").write_bytes(b"RIFF" + bytes(64))
    (audio / ".line_0_00.raw.wav").write_bytes(b"RIFF" + bytes(64))
    monkeypatch.setattr(tts, "finish_audio", real)
    again = tts.synthesize(ctx, "Hold the lantern higher.", output_name="line_0_00")
    assert again.audio == "audio/line_0_00.wav" and [p.name for p in audio.iterdir()] == ["line_0_00.wav"]


@pytest.fixture
def refs(tmp_path, corpus):
    import cv2
    import numpy as np

    folder = tmp_path / "refs"
    (folder / "pip").mkdir(parents=True)
    face = np.full((96, 96, 3), 200, np.uint8)
    cv2.circle(face, (48, 48), 30, (40, 90, 200), -1)
    cv2.imwrite(str(folder / "pip" / "front.png"), face)
    (folder / "pip" / "broken.png").write_bytes(b"\x89PNG not really")
    return folder


def test_a_bad_refs_folder_is_refused_before_extraction(bounded_ctx, corpus, tmp_path, refs):
    from tools.dataset.pipeline import run_pipeline

    ctx = bounded_ctx(corpus["good"].parent)
    datasets = tmp_path / "datasets"
    with pytest.raises(ToolError, match="Reference folder not found"):
        run_pipeline(ctx, "early", film=corpus["good"], refs=tmp_path / "no refs", until="characters")
    (tmp_path / "empty refs" / "gull").mkdir(parents=True)
    (tmp_path / "empty refs" / "gull" / "bad.jpg").write_bytes(b"nope")
    with pytest.raises(ToolError, match="no readable reference image for gull"):
        run_pipeline(ctx, "early", film=corpus["good"], refs=tmp_path / "empty refs", until="characters")
    assert not (datasets / "early").exists()  # nothing was extracted
    results = run_pipeline(ctx, "early", film=corpus["good"], refs=refs, until="characters")
    characters = next(r for r in results if r.stage == "characters")
    assert "broken.png" in characters.summary()  # the unreadable reference is reported where it is seen


def test_a_dataset_name_keeps_its_film(bounded_ctx, corpus, tmp_path):
    from tools.dataset.pipeline import run_pipeline

    ctx = bounded_ctx(corpus["good"].parent)
    run_pipeline(ctx, "one-film", film=corpus["good"], until="extract")
    frames = sorted((tmp_path / "datasets" / "one-film" / "frames").iterdir())
    assert frames
    with pytest.raises(ToolError, match="was made from"):
        run_pipeline(ctx, "one-film", film=corpus["variable frame rate"], until="extract")
    assert sorted((tmp_path / "datasets" / "one-film" / "frames").iterdir()) == frames  # untouched

    moved = tmp_path / "edited.mp4"  # the same path, its content replaced: re-extracted, no stale frames
    shutil.copy(corpus["good"], moved)
    run_pipeline(ctx, "edited", film=moved, until="extract")
    stale = tmp_path / "datasets" / "edited" / "frames" / "stale_0001.png"
    stale.write_bytes(b"old")
    shutil.copy(corpus["variable frame rate"], moved)
    run_pipeline(ctx, "edited", film=moved, until="extract")
    assert not stale.exists()
