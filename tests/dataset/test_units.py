"""Small units: journal replay after a torn write, batch selection, mixed precision choice,
the keyframe buffer."""
from __future__ import annotations

import numpy as np
import pytest

from tools.core.context import make_context
from tools.dataset.extract import extract_frames
from tools.dataset.filter import run_filter
from tools.dataset.metadata import DatasetStore, FrameItem, StageRecord
from tools.video.scene_pass import SceneBuffer


def test_journal_replay_ignores_a_torn_last_line(tmp_path, settings_for):
    settings = settings_for(tmp_path)
    store = DatasetStore.open(settings, "j")
    for n in range(3):
        store.record(FrameItem(id=f"f{n}", file=f"frames/f{n}.jpg", frame_index=n, timestamp=n, scene=0,
                               stages={"extract": StageRecord(status="done")}))
    with store.journal_path.open("a") as fh:
        fh.write('{"op": "item", "item": {"id": "f9", "fi')  # the line a kill -9 interrupted
    again = DatasetStore.open(settings, "j")
    assert sorted(again.meta.items) == ["f0", "f1", "f2"]
    again.save()
    assert not again.journal_path.exists() and len(DatasetStore.open(settings, "j").meta.items) == 3
    assert not list(again.root.glob(".metadata-*"))  # no temp file left behind


def test_best_frame_per_batch(tmp_path, media, settings_for):
    ctx = make_context(settings_for(tmp_path, extract_mode="interval", interval_s=0.25, batch_size=3,
                                    frames_per_batch=1, phash_distance=-1))  # -1: no duplicate removal
    store = DatasetStore.open(ctx.settings, "b")
    extract_frames(ctx, store, media["film"], "interval", 0.25)
    run_filter(ctx, store)
    losers = [i for i in store.items() if i.stages["filter"].reason.startswith("not best of batch")]
    assert losers
    for item in losers:  # each loser is beaten by a kept frame of its own scene batch
        rec = item.stages["filter"]
        assert f"scene {item.scene}," in rec.reason and "rank" in rec.reason
    kept_per_scene = {}
    for item in store.items():
        if item.status("filter") == "kept":
            kept_per_scene[item.scene] = kept_per_scene.get(item.scene, 0) + 1
    frames_per_scene = {}
    for item in store.items():
        if not item.stages["filter"].reason or item.stages["filter"].reason.startswith("not best"):
            frames_per_scene[item.scene] = frames_per_scene.get(item.scene, 0) + 1
    for scene, n in frames_per_scene.items():
        assert kept_per_scene.get(scene, 0) == -(-n // 3)  # one per started batch of three


def test_mixed_precision_choice(monkeypatch):
    import torch

    from tools.dataset.lora_trainer import autocast_dtype

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert autocast_dtype("auto", cpu) is None and autocast_dtype("fp16", cpu) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert autocast_dtype("auto", cuda) is torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert autocast_dtype("auto", cuda) is torch.float16 and autocast_dtype("no", cuda) is None
    assert autocast_dtype("bf16", cuda) is torch.bfloat16


def test_scene_buffer_keeps_the_middle_within_bounds():
    buf = SceneBuffer(100, max_candidates=8)
    for idx in range(100, 400):
        buf.offer(idx, np.array([idx]))
    assert len(buf.frames) <= 8 + 1
    mid, _ = buf.middle(400)
    assert abs(mid - 249.5) <= buf.stride / 2 + 1
    short = SceneBuffer(0, max_candidates=8)
    for idx in range(7):
        short.offer(idx, np.array([idx]))
    assert short.middle(7)[0] == 3  # exact for short scenes


def test_metadata_from_a_newer_layout_is_refused_not_misread(tmp_path, settings_for):
    from tools.core.types import ToolError
    from tools.dataset.metadata import METADATA_VERSION

    settings = settings_for(tmp_path)
    store = DatasetStore.open(settings, "later")
    store.save()
    data = store.path.read_text(encoding="utf-8").replace(f'"version": {METADATA_VERSION}', '"version": 99')
    store.path.write_text(data, encoding="utf-8")
    with pytest.raises(ToolError, match="metadata version 99"):
        DatasetStore.open(settings, "later")
