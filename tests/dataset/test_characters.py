"""Identity matching measured against known identities (precision/recall), and backend errors."""
from __future__ import annotations

import numpy as np
import pytest

from tests.dataset.synth import CHARACTERS, SCENES, background, draw_character
from tools.core.context import make_context
from tools.core.types import ToolError
from tools.dataset.characters import load_references, precision_recall, run_characters
from tools.dataset.extract import extract_frames
from tools.dataset.filter import run_filter
from tools.dataset.metadata import DatasetStore
from tools.media.identity.choice import get_backend
from tools.media.identity.regions import match_regions


def test_characters_stage_matches_ground_truth_on_the_film(ctx, media):
    store = DatasetStore.open(ctx.settings, "chars")
    extract_frames(ctx, store, media["film"], "scenes", 2.0)
    run_filter(ctx, store)
    result = run_characters(ctx, store, media["refs"])
    kept = store.items(kept_after="filter")
    predicted = {i.id: set(i.characters) for i in kept}
    truth = {i.id: SCENES[i.scene].characters for i in kept}
    pr = precision_recall(predicted, truth)
    assert pr["precision"] == 1.0 and pr["recall"] == 1.0, pr
    assert result.counts["character:alice"] == 2 and result.counts["character:chika"] == 2
    assert store.meta.characters["bruno"].trigger == "bruno_chr"
    # re-matching with a stricter threshold reuses the cached features
    strict = make_context(ctx.settings.model_copy(update={"dataset": ctx.settings.dataset.model_copy(
        update={"identity_threshold": 0.99})}))
    again = run_characters(strict, DatasetStore.open(strict.settings, "chars"), media["refs"])
    assert again.redone == 0 and again.reused == len(kept)
    assert again.counts.get("with_character", 0) == 0 and "no character matched a reference" in again.reasons


def test_identity_precision_recall_on_a_labelled_set(ctx, media):
    """120 frames: random backgrounds, 0–2 characters at random sizes/positions, known identities."""
    backend = get_backend(ctx.settings, "opencv")
    _, refs, problems = load_references(media["refs"], backend)
    assert not problems
    rng = np.random.default_rng(7)
    names = list(CHARACTERS)
    predicted, truth = {}, {}
    for n in range(120):
        bg = tuple(int(v) for v in rng.integers(60, 240, 3))
        img = background(bg, seed=n)
        k = int(rng.integers(0, 3))
        cast = list(rng.choice(names, size=k, replace=False))
        for j, who in enumerate(cast):
            r = int(rng.integers(24, 46))
            cx = 80 + j * 160 + int(rng.integers(-20, 20))
            draw_character(img, who, cx, int(rng.integers(70, 110)), r)
        embs = [reg.embedding for reg in backend.regions(img)]
        s = ctx.settings.dataset
        predicted[n] = {c for c, _ in match_regions(embs, refs, backend.default_threshold, s.identity_margin) if c}
        truth[n] = set(cast)
    pr = precision_recall(predicted, truth)
    print("opencv identity backend on 120 synthetic frames:", pr)
    assert pr["precision"] >= 0.9 and pr["recall"] >= 0.8, pr


def test_auto_keeps_the_colour_backend_for_flat_2d_characters(ctx, media):
    store = DatasetStore.open(ctx.settings, "flat")
    extract_frames(ctx, store, media["film"], "scenes", 2.0)
    run_filter(ctx, store)
    result = run_characters(ctx, store, media["refs"])
    assert any(n.startswith("backend: opencv (auto: opencv, YuNet found faces in only") for n in result.notes)


def test_reference_folder_problems_are_reported(ctx, tmp_path):
    with pytest.raises(ToolError, match="Reference folder not found"):
        run_characters(ctx, DatasetStore.open(ctx.settings, "r"), tmp_path / "nope")
    (tmp_path / "refs" / "ghost").mkdir(parents=True)
    (tmp_path / "refs" / "ghost" / "broken.png").write_bytes(b"xx")
    backend = get_backend(ctx.settings, "opencv")
    infos, refs, problems = load_references(tmp_path / "refs", backend)
    assert "ghost" in infos and refs["ghost"] == [] and any("ghost" in p for p in problems)
