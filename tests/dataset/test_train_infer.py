"""LoRA training on the tiny SDXL pipeline: registry, exact resume after kill -9, sampling."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dataset.conftest import make_settings
from tests.dataset.synth import CHARACTERS
from tests.tiny_models import build_tiny_sdxl
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.trace import Trace
from tools.dataset.caption import run_caption
from tools.dataset.characters import run_characters
from tools.dataset.export import caption_for, character_items
from tools.dataset.extract import extract_frames
from tools.dataset.filter import run_filter
from tools.dataset.metadata import DatasetStore
from tools.image.loras import get_lora

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real subprocesses / LoRA training: seconds, not milliseconds
TRAIN = dict(resolution=32, rank=4, alpha=4.0, checkpoint_every=2, learning_rate=1e-3, max_steps=6,
             gradient_checkpointing=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, media):
    tmp = tmp_path_factory.mktemp("train")
    base = build_tiny_sdxl(tmp / "tiny-sdxl")
    settings = make_settings(tmp, base_model_path=str(base), sample_steps=2, samples=2, **TRAIN)
    ctx = make_context(settings, trace=Trace(tmp / "trace.jsonl"))
    store = DatasetStore.open(settings, "lora")
    extract_frames(ctx, store, media["film"], "scenes", 2.0)
    run_filter(ctx, store)
    run_characters(ctx, store, media["refs"])
    run_caption(ctx, store, "fill")
    outcome = invoke("dataset_train_lora", {"name": "lora", "character": "alice"}, ctx)  # uninterrupted run
    return {"tmp": tmp, "base": base, "ctx": ctx, "outcome": outcome}


def test_training_saves_and_registers_the_lora(trained):
    out = trained["outcome"]
    assert out.ok, out.error
    r = out.result
    assert r["steps"] == 6 and r["resumed_from"] == 0 and r["images"] == 2 and r["device"] == "cpu"
    lora_file = Path(r["lora_path"])
    assert lora_file.name == "pytorch_lora_weights.safetensors" and lora_file.exists()
    entry = get_lora(trained["ctx"].settings, "lora-alice")
    assert entry.trigger_words == ["alice_chr"] and entry.path == lora_file and entry.kind == "character"
    from safetensors.torch import load_file

    keys = list(load_file(str(lora_file)))
    assert keys and all(k.startswith("unet.") for k in keys)
    assert any(".to_q.lora.down" in k for k in keys) and any(".to_out.0.lora.up" in k for k in keys)
    assert not any(".ff." in k or "conv" in k for k in keys)  # attention projections only
    # the scheduler held sdxl while training
    acquired = [e for e in trained["ctx"].trace.read() if e["kind"] == "scheduler.acquire"]
    assert acquired and acquired[0]["resource"] == "sdxl" and "dataset_train_lora" in acquired[0]["reason"]


def test_killed_training_resumes_to_the_same_lora(trained, tmp_path):
    import torch
    from safetensors.torch import load_file

    from tools.dataset.lora_trainer import TrainConfig, train

    ctx = trained["ctx"]
    store = DatasetStore.open(ctx.settings, "lora")
    items = character_items(store, "alice")
    # same data, parameters and fingerprint as the tool's run, another output folder
    uninterrupted = Path(trained["outcome"].result["lora_path"])
    cfg = dict(base_model=str(trained["base"]), images=[str(store.abspath(i.file)) for i in items],
               captions=[caption_for(i, "alice_chr") for i in items], output_dir=str(tmp_path / "killed"),
               seed=42, fingerprint="resume-test", train_batch_size=1, mixed_precision="auto", **TRAIN)
    cfg["max_steps"] = 1000  # the killed run would go on far past the resumed run's end
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    ckpts = tmp_path / "killed" / "checkpoints"
    proc = subprocess.Popen([sys.executable, "-m", "tests.dataset.train_runner", str(tmp_path / "cfg.json")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if ckpts.exists() and any(p.name.startswith("step-") for p in ckpts.iterdir()):
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.01)
    assert proc.wait(timeout=30) == -signal.SIGKILL, proc.stderr.read().decode()[-800:]
    cfg.update(max_steps=6, base_model=Path(cfg["base_model"]), output_dir=Path(cfg["output_dir"]),
               images=[Path(p) for p in cfg["images"]])
    resumed = train(TrainConfig(**cfg))
    assert 2 <= resumed.resumed_from < 6 and resumed.resumed_from % 2 == 0 and resumed.steps == 6
    assert len(resumed.losses) == 6  # losses before the kill came back with the checkpoint
    a, b = load_file(str(uninterrupted)), load_file(str(resumed.lora_file))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key
    assert not torch.allclose(a[next(iter(a))], torch.zeros_like(a[next(iter(a))]))


def test_missing_base_model_names_the_setting(tmp_path, media):
    ctx = make_context(make_settings(tmp_path))
    store = DatasetStore.open(ctx.settings, "nobase")
    extract_frames(ctx, store, media["film"], "scenes", 2.0)
    run_filter(ctx, store)
    run_characters(ctx, store, media["refs"])
    run_caption(ctx, store, "fill")
    out = invoke("dataset_train_lora", {"name": "nobase", "character": "alice"}, ctx)
    assert not out.ok and "dataset.base_model_path" in out.hint
    out = invoke("dataset_train_lora", {"name": "nobase", "character": "zed"}, ctx)
    assert not out.ok and "unknown character" in out.error


def test_samples_contact_sheet_and_identity_score(trained):
    ctx = trained["ctx"]
    out = invoke("dataset_infer", {"name": "lora", "character": "alice", "size": 64}, ctx)
    assert out.ok, f"{out.error} {out.hint}"
    r = out.result
    assert len(r["images"]) == 2 and all(Path(p).exists() for p in r["images"])
    assert Path(r["contact_sheet"]).exists() and r["lora_name"] == "lora-alice"
    assert r["identity_backend"] == "opencv" and len(r["per_image_identity"]) == 2
    assert r["identity_consistency"] is None or 0.0 <= r["identity_consistency"] <= 1.0
    assert any(a.kind == "image" and a.metadata.get("contact_sheet") for a in out.artifacts)


def test_a_dataset_that_names_no_character_is_trained_and_sampled_as_it_is(trained, media):
    """As in kohya_ss the dataset is the subject: no character named in its metadata, no character asked
    for — all the kept frames, captions led by the dataset's trigger (its metadata's, else from its name)."""
    ctx = trained["ctx"]
    store = DatasetStore.open(ctx.settings, "plain_frames")
    extract_frames(ctx, store, media["film"], "scenes", 2.0)
    run_filter(ctx, store)  # no characters stage, no captions
    kept = len(store.items(kept_after="filter"))
    assert kept >= 1 and not store.meta.characters
    out = invoke("dataset_train_lora", {"name": "plain_frames", "max_steps": 2}, ctx)
    assert out.ok, f"{out.error} {out.hint}"
    r = out.result
    assert r["character"] is None and r["images"] == kept and r["trigger"] == "plainframes_set"
    assert "names no character" in r["subject"] and "names no character" in out.summary
    assert get_lora(ctx.settings, "plain_frames").trigger_words == ["plainframes_set"]
    assert Path(r["lora_path"]).exists() and "/lora/_dataset/" in r["lora_path"]
    sampled = invoke("dataset_infer", {"name": "plain_frames", "size": 64}, ctx)
    assert sampled.ok, f"{sampled.error} {sampled.hint}"
    assert sampled.result["character"] is None and len(sampled.result["images"]) == 2
    assert sampled.result["identity_consistency"] is None  # no references to score against
    assert all(p.startswith("plainframes_set") for p in sampled.result["prompts"])

    store = DatasetStore.open(ctx.settings, "plain_frames")
    store.meta.trigger = "tidefilm_look"  # a trigger the dataset's own metadata sets wins over its name
    store.save()
    again = invoke("dataset_train_lora", {"name": "plain_frames", "max_steps": 2}, ctx)
    assert again.ok and again.result["trigger"] == "tidefilm_look"


def test_a_character_must_be_named_only_when_the_dataset_names_several(trained):
    ctx = trained["ctx"]
    store = DatasetStore.open(ctx.settings, "lora")
    assert sorted(store.meta.characters) == sorted(CHARACTERS) and len(CHARACTERS) > 1
    out = invoke("dataset_train_lora", {"name": "lora"}, ctx)
    assert not out.ok and "several characters" in out.error and "which one" in out.error
    out = invoke("dataset_infer", {"name": "lora"}, ctx)
    assert not out.ok and "several characters" in out.error
    DatasetStore.open(ctx.settings, "no_cast").save()
    out = invoke("dataset_train_lora", {"name": "no_cast", "character": "alice"}, ctx)
    assert not out.ok and "unknown character" in out.error and "names no character" in out.hint
