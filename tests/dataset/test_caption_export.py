"""Captions (composed, VLM over a loopback server, fill vs overwrite, 77-token limit) and exports."""
from __future__ import annotations

import json
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.tiny_models import write_tiny_clip_tokenizer
from tools.core.context import make_context
from tools.dataset.caption import estimate_tokens, fit_caption, run_caption, token_counter
from tools.dataset.characters import run_characters
from tools.dataset.export import run_export
from tools.dataset.extract import extract_frames
from tools.dataset.filter import run_filter
from tools.dataset.metadata import DatasetStore


def _prepared(ctx, media, name="cap"):
    store = DatasetStore.open(ctx.settings, name)
    extract_frames(ctx, store, media["film"], "scenes", 2.0)
    run_filter(ctx, store)
    run_characters(ctx, store, media["refs"])
    return store


def test_composed_captions_fill_and_overwrite(ctx, media):
    store = _prepared(ctx, media)
    first = run_caption(ctx, store, "fill")
    kept = store.items(kept_after="filter")
    assert first.redone == len(kept)
    by_scene = {i.scene: i for i in kept}
    assert by_scene[0].caption.startswith("alice_chr, character, solo")
    assert "2 characters" in by_scene[2].caption and "chika_chr" in by_scene[2].caption
    assert "close-up" in by_scene[7].caption  # bruno fills the frame
    assert "no characters" in by_scene[8].caption
    # a user's own caption wins; fill never replaces an existing caption
    (store.root / "captions").mkdir()
    (store.root / "captions" / f"{by_scene[1].id}.txt").write_text("my own words, bruno_chr", encoding="utf-8")
    by_scene[0].caption = "hand edited"
    again = run_caption(ctx, store, "fill")
    assert by_scene[0].caption == "hand edited" and by_scene[1].caption == "my own words, bruno_chr"
    assert by_scene[1].caption_source == "user" and again.reused == len(kept) - 1
    run_caption(ctx, store, "overwrite")
    assert by_scene[0].caption.startswith("alice_chr") and by_scene[1].caption_source == "user"


def test_token_limit_cuts_at_a_comma(tmp_path, settings_for):
    text = ", ".join(f"descriptor number {n} with extra words" for n in range(30))
    cut, truncated = fit_caption(text, estimate_tokens, 77)
    assert truncated and estimate_tokens(cut) <= 77 and not cut.endswith(",")
    assert cut.endswith("extra words")  # whole comma-separated parts only
    tok_dir = write_tiny_clip_tokenizer(tmp_path / "tok")
    count = token_counter(settings_for(tmp_path, clip_tokenizer_path=str(tok_dir)))
    cut2, truncated2 = fit_caption(text, count, 77)
    assert truncated2 and count(cut2) <= 77 and count(cut2 + ", x") > count(cut2)
    short, t3 = fit_caption("alice_chr, solo", count, 77)
    assert short == "alice_chr, solo" and not t3


class _VLM(BaseHTTPRequestHandler):
    requests: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _VLM.requests.append(body)
        content = body["messages"][0]["content"]
        has_image = any(p.get("type") == "image_url" and p["image_url"]["url"].startswith("data:image/jpeg;base64,")
                        for p in content)
        text = "smiling, waving, sunny street, medium shot" if has_image else "no image"
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_vlm_captions_through_an_openai_compatible_endpoint(tmp_path, media, settings_for):
    server = HTTPServer(("127.0.0.1", 0), _VLM)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ctx = make_context(settings_for(tmp_path, vlm_base_url=f"http://127.0.0.1:{server.server_port}/v1",
                                        vlm_model="tiny-vlm"))
        store = _prepared(ctx, media, "vlm")
        result = run_caption(ctx, store, "fill")
    finally:
        server.shutdown()
    kept = store.items(kept_after="filter")
    assert len(_VLM.requests) == len(kept) and _VLM.requests[0]["model"] == "tiny-vlm"
    alice = next(i for i in kept if i.scene == 0)
    assert alice.caption == "alice_chr, character, smiling, waving, sunny street, medium shot"
    assert alice.caption_source == "vlm:tiny-vlm" and "vlm:tiny-vlm" in result.notes[0]


def test_vlm_failure_is_recorded_per_item(tmp_path, media, settings_for):
    ctx = make_context(settings_for(tmp_path, vlm_base_url="http://127.0.0.1:9/v1", vlm_model="m", vlm_timeout_s=2))
    store = _prepared(ctx, media, "vlmdown")
    result = run_caption(ctx, store, "fill")
    assert result.counts["failed"] == len(store.items(kept_after="filter"))
    assert all("VLM captioning failed" in i.stages["caption"].reason for i in store.items(kept_after="filter"))


def test_kohya_and_diffusers_layouts(ctx, media):
    store = _prepared(ctx, media, "exp")
    run_caption(ctx, store, "fill")
    result = run_export(ctx, store, "both")
    kohya = store.root / "export" / "kohya" / "alice"
    img_dir = kohya / "img" / "10_alice_chr character"
    images = sorted(img_dir.glob("*.jpg"))
    assert len(images) == 2 and all(p.with_suffix(".txt").read_text().startswith("alice_chr") for p in images)
    config = tomllib.loads((kohya / "dataset_config.toml").read_text())
    assert config["datasets"][0]["subsets"][0]["image_dir"] == str(img_dir)
    assert config["general"]["keep_tokens"] == 1
    # the two-character frame goes to both characters, each with its own trigger first
    lines = [json.loads(l) for l in (store.root / "export" / "diffusers" / "chika" / "metadata.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and all(l["text"].startswith("chika_chr") for l in lines)
    assert all((store.root / "export" / "diffusers" / "chika" / l["file_name"]).exists() for l in lines)
    assert result.counts == {"character:alice": 2, "character:bruno": 2, "character:chika": 2}
    with pytest.raises(Exception, match="unknown characters"):
        run_export(ctx, store, "kohya", ["zed"])


def test_fill_reports_captions_made_from_older_matches(tmp_path, media, settings_for):
    ctx = make_context(settings_for(tmp_path))
    store = _prepared(ctx, media, "stale")
    run_caption(ctx, store, "fill")
    strict = make_context(settings_for(tmp_path, identity_threshold=0.99))
    store = DatasetStore.open(strict.settings, "stale")
    run_characters(strict, store, media["refs"])  # nobody matches now
    kept = run_caption(strict, store, "fill")
    assert kept.counts["kept existing (inputs changed)"] == 5 and "overwrite" in kept.notes[-1]
    redone = run_caption(strict, store, "overwrite")
    assert redone.redone == 6 and all(i.caption.startswith("no characters") for i in store.items(kept_after="filter"))
