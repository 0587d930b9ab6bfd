"""Extract + filter decisions against the synthetic film's ground truth."""
from __future__ import annotations

import json

import pytest

from tests.dataset.synth import SCENES
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.types import ToolError
from tools.dataset.extract import extract_frames
from tools.dataset.filter import run_filter
from tools.dataset.metadata import DatasetStore

EXPECTED_REASON = {"blurry": "blurry", "dark": "too dark", "bright": "too bright", "title": "title/credit card",
                   "duplicate": "near-duplicate"}


def _extract_and_filter(ctx, film, name="film"):
    store = DatasetStore.open(ctx.settings, name)
    extract = extract_frames(ctx, store, film, ctx.settings.dataset.extract_mode, ctx.settings.dataset.interval_s)
    return store, extract, run_filter(ctx, store)


def test_one_keyframe_per_scene_and_every_decision_matches_ground_truth(ctx, media):
    store, extract, filt = _extract_and_filter(ctx, media["film"])
    assert len(store.meta.scenes) == len(SCENES)
    items = store.items()
    assert [i.scene for i in items] == list(range(len(SCENES)))
    for item, scene in zip(items, SCENES):
        rec = item.stages["filter"]
        assert store.abspath(item.file).exists() and item.timestamp > 0
        if scene.kind == "keep":
            assert rec.status == "kept", (item.scene, rec.reason)
        else:
            assert rec.status == "dropped" and rec.reason.startswith(EXPECTED_REASON[scene.kind]), (scene.kind, rec.reason)
            assert rec.scores["blur"] >= 0 and "brightness" in rec.scores  # the score is recorded with the decision
    dup = items[SCENES.index(next(s for s in SCENES if s.kind == "duplicate"))].stages["filter"]
    assert dup.scores["duplicate_of"] == items[0].id and "scene 0" in dup.reason  # across scenes
    saved = json.loads(store.path.read_text())
    assert saved["stages"]["filter"]["counts"] == {"kept": 6, "dropped": 5}
    assert (store.root / "summaries" / "filter.json").exists()


def test_threshold_change_re_decides_without_re_extracting(tmp_path, media, settings_for):
    ctx = make_context(settings_for(tmp_path, frame_format="png"))
    store, _, _ = _extract_and_filter(ctx, media["film"])
    mtimes = {i.id: store.abspath(i.file).stat().st_mtime_ns for i in store.items()}
    strict = make_context(settings_for(tmp_path, blur_min=1500.0, frame_format="png"))
    store2 = DatasetStore.open(strict.settings, "film")
    again = extract_frames(strict, store2, media["film"], "scenes", 2.0)
    assert again.redone == 0 and again.reused == len(SCENES)
    filt = run_filter(strict, store2)
    assert filt.redone == 0 and filt.reused == len(SCENES)  # scores came from the cache
    assert store2.items()[0].file.endswith(".png")
    assert {i.id: store2.abspath(i.file).stat().st_mtime_ns for i in store2.items()} == mtimes
    newly = [i for i in store2.items() if i.stages["filter"].reason.startswith("blurry")]
    assert len(newly) > 1 and all("blur_min 1500.0" in i.stages["filter"].reason for i in newly)


def test_interval_mode_and_within_scene_duplicates(tmp_path, media, settings_for):
    ctx = make_context(settings_for(tmp_path, extract_mode="both", interval_s=0.5))
    store, extract, filt = _extract_and_filter(ctx, media["film"])
    items = store.items()
    assert sum("interval" in i.sources for i in items) == 33  # 16.5 s at 0.5 s
    assert sum("scene" in i.sources for i in items) == len(SCENES)
    same_scene_dups = [i for i in items if "same scene" in i.stages["filter"].reason]
    assert same_scene_dups  # static shots repeat themselves within a scene
    kept_keep_scenes = {i.scene for i in items if i.status("filter") == "kept"}
    assert kept_keep_scenes == {n for n, s in enumerate(SCENES) if s.kind == "keep"}


def test_corrupt_frame_is_recorded_and_skipped(ctx, media):
    store = DatasetStore.open(ctx.settings, "corrupt")
    extract_frames(ctx, store, media["film"], "scenes", 2.0)
    victim = store.items()[1]
    store.abspath(victim.file).write_bytes(b"not a png")
    result = run_filter(ctx, store)
    assert victim.stages["filter"].status == "failed" and "unreadable" in victim.stages["filter"].reason
    assert result.counts["failed"] == 1 and result.counts["kept"] == 5


def test_bad_inputs_give_clear_errors(ctx, tmp_path, media):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    out = invoke("dataset_extract", {"name": "x", "film": str(empty)}, ctx)
    assert not out.ok and "empty" in out.error
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00garbage" * 100)
    out = invoke("dataset_extract", {"name": "x", "film": str(junk)}, ctx)
    assert not out.ok and out.error_kind == "tool"
    out = invoke("dataset_extract", {"name": "x", "film": str(media["film"])}, ctx)
    assert not out.ok and "outside the run workspace" in out.error  # a film the user did not name
    ctx.workspace.allow_file(media["film"])
    out = invoke("dataset_extract", {"name": "../escape", "film": str(media["film"])}, ctx)
    assert not out.ok and "Invalid dataset name" in out.error
    out = invoke("dataset_extract", {"name": "ok name"[:2], "film": str(media["film"])}, ctx)
    assert out.ok and out.result["counts"]["done"] == len(SCENES)
    out = invoke("dataset_filter", {"name": "never-made"}, ctx)
    assert not out.ok and "No dataset named" in out.error
    with pytest.raises(ToolError):
        DatasetStore.open(ctx.settings, "a/b")
