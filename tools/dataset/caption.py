"""Stage 4 — caption: a VLM through an OpenAI-compatible vision endpoint, or captions composed
from what the pipeline knows (trigger words, class word, shot type from figure size, palette).

"fill" never replaces an existing caption (a user's captions/<id>.txt always wins); "overwrite"
redoes them. Every caption is checked against the CLIP limit (77 tokens, counted by the CLIP
tokenizer at dataset.clip_tokenizer_path, else by a conservative estimate) and cut at a comma.
"""
from __future__ import annotations

import base64
import math
import os
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Literal

import cv2
import httpx
import numpy as np

from tools.core.context import ToolContext
from tools.core.prompts import PromptBook
from tools.core.registry import tool
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError
from tools.dataset.metadata import DatasetStore, FrameItem, StageRecord, fingerprint
from tools.dataset.stage import StageClock, StageResult
from tools.media.images import read_image

PROMPTS = PromptBook.beside(__file__)


def estimate_tokens(text: str) -> int:
    """Upper-bound-ish CLIP token count without a tokenizer (+2 for start/end tokens)."""
    n = 2
    for piece in re.findall(r"[A-Za-z]+|\d|[^\sA-Za-z\d]", text):
        n += 1 if not piece.isalpha() or len(piece) <= 6 else math.ceil(len(piece) / 4)
    return n


@lru_cache(maxsize=2)
def _clip_tokenizer(path: str):
    from transformers import CLIPTokenizer

    try:
        return CLIPTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ToolError(f"No CLIP tokenizer at dataset.clip_tokenizer_path={path} ({exc})",
                        "point it at a folder with vocab.json + merges.txt (e.g. <sdxl>/tokenizer) or unset it") from exc


def token_counter(settings) -> Callable[[str], int]:
    path = settings.dataset.clip_tokenizer_path
    if path is None:
        return estimate_tokens
    tok = _clip_tokenizer(str(resolve_path(path)))
    return lambda text: len(tok(text, truncation=False)["input_ids"])


def fit_caption(text: str, count: Callable[[str], int], limit: int) -> tuple[str, bool]:
    """Drop trailing comma-separated parts until the caption fits; cut words only as a last resort."""
    text = re.sub(r"\s+", " ", text).strip(" ,")
    if count(text) <= limit:
        return text, False
    parts = [p.strip() for p in text.split(",") if p.strip()]
    while len(parts) > 1 and count(", ".join(parts)) > limit:
        parts.pop()
    words = ", ".join(parts).split(" ")
    while len(words) > 1 and count(" ".join(words)) > limit:
        words.pop()
    return " ".join(words).strip(" ,"), True


def shot_type(item: FrameItem) -> str:
    largest = max((d.area_fraction for d in item.detections if d.character), default=0.0)
    return "close-up" if largest >= 0.2 else "medium shot" if largest >= 0.05 else "wide shot"


_HUES = [(10, "red"), (25, "orange"), (35, "yellow"), (85, "green"), (100, "teal"), (130, "blue"), (160, "purple"), (180, "red")]


def palette_words(img: np.ndarray) -> list[str]:
    hsv = cv2.cvtColor(cv2.resize(img, (64, 64), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2HSV)
    value = float(hsv[..., 2].mean()) / 255
    words = ["bright lighting" if value > 0.7 else "dim lighting" if value < 0.3 else "soft lighting"]
    sat = hsv[..., 1] > 60
    if sat.mean() > 0.2:
        hue = float(np.median(hsv[..., 0][sat]))
        words.append(next(name for top, name in _HUES if hue <= top) + " tones")
    return words


def compose_caption(item: FrameItem, triggers: dict[str, str], class_word: str, img: np.ndarray) -> str:
    names = item.characters
    parts = [triggers.get(n, n) for n in names] + ([class_word] if names else [])
    count = len(names)
    parts.append("solo" if count == 1 else f"{count} characters" if count > 1 else "no characters, background")
    parts += [shot_type(item) if names else "scenery", "animated film still", *palette_words(img)]
    return ", ".join(parts)


def vlm_caption(settings, img: np.ndarray) -> str:
    s = settings.dataset
    ok, jpg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ToolError("could not encode the frame for the VLM", "check that the frame file is a valid image")
    url = "data:image/jpeg;base64," + base64.b64encode(jpg.tobytes()).decode("ascii")
    body = {"model": s.vlm_model, "max_tokens": 120, "temperature": 0.2, "messages": [{"role": "user", "content": [
        {"type": "text", "text": PROMPTS("frame_caption")}, {"type": "image_url", "image_url": {"url": url}}]}]}
    headers = {"Authorization": f"Bearer {os.environ.get(s.vlm_api_key_env, 'none')}"}
    try:
        resp = httpx.post(s.vlm_base_url.rstrip("/") + "/chat/completions", json=body, headers=headers,
                          timeout=s.vlm_timeout_s)
        resp.raise_for_status()
        text = resp.json()["choices"][0]["message"]["content"]
    except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
        raise ToolError(f"VLM captioning failed at {s.vlm_base_url}: {exc}",
                        "check dataset.vlm_base_url / dataset.vlm_model, or leave vlm_base_url empty for composed captions") from exc
    return re.sub(r"\s+", " ", str(text)).strip().strip(".")


def run_caption(ctx: ToolContext, store: DatasetStore, mode: Literal["fill", "overwrite"]) -> StageResult:
    s = ctx.settings.dataset
    use_vlm = bool(s.vlm_base_url and s.vlm_model)
    source = f"vlm:{s.vlm_model}" if use_vlm else "composed"
    count = token_counter(ctx.settings)
    triggers = {n: c.trigger for n, c in store.meta.characters.items()}
    clock = StageClock("caption", fingerprint(source, s.class_word, triggers, s.caption_max_tokens, mode))
    clock.notes.append(f"captioner: {source}; tokens: {'CLIP tokenizer' if s.clip_tokenizer_path else 'estimate'}")
    items = [i for i in store.items(kept_after="filter") if i.status("characters") == "done"]
    user_dir = store.root / "captions"
    with ctx.progress.task(f"caption ({source})", total=len(items)) as task:
        for item in items:
            item_fp = fingerprint(clock.fingerprint, item.characters, [d.area_fraction for d in item.detections])
            user_file = user_dir / f"{item.id}.txt"
            rec = item.stages.get("caption")
            if user_file.exists():
                text, src = user_file.read_text(encoding="utf-8").strip(), "user"
            elif item.caption and (mode == "fill" or (rec and rec.fingerprint == item_fp)):
                clock.reused += 1
                stale = rec is not None and rec.fingerprint != item_fp and item.caption_source != "user"
                clock.counts["kept existing (inputs changed)" if stale else "kept existing"] += 1
                task.advance()
                continue
            else:
                try:
                    img = read_image(store.abspath(item.file))
                    body = vlm_caption(ctx.settings, img) if use_vlm else None
                    text = compose_caption(item, triggers, s.class_word, img)
                    if body:  # the VLM describes; the pipeline's own knowledge leads (trigger words)
                        head = [triggers.get(n, n) for n in item.characters]
                        text = ", ".join(head + ([s.class_word] if head else []) + [body])
                    src = source
                except (ValueError, ToolError) as exc:
                    item.stages["caption"] = StageRecord(status="failed", reason=f"caption failed: {exc}")
                    clock.counts["failed"] += 1
                    clock.reasons["caption failed"] += 1
                    store.record(item)
                    task.advance()
                    continue
            text, cut = fit_caption(text, count, s.caption_max_tokens)
            item.caption, item.caption_source = text, src
            item.stages["caption"] = StageRecord(status="done", fingerprint=item_fp,
                                                 scores={"tokens": count(text), "truncated": cut})
            clock.counts["truncated" if cut else "captioned"] += 1
            clock.redone += 1
            store.record(item)
            task.advance()
    if clock.counts.get("kept existing (inputs changed)"):
        clock.notes.append(f"{clock.counts['kept existing (inputs changed)']} captions were made from older "
                           "character matches; fill mode keeps them — use caption_mode=overwrite to redo them")
    return clock.finish(ctx, store)


@tool(family="dataset")
def dataset_caption(ctx: ToolContext, name: str, mode: Literal["fill", "overwrite"] | None = None) -> StageResult:
    """Caption the kept frames: VLM when dataset.vlm_base_url is set, else composed from trigger words and shot type.

    Args:
        name: The dataset name (after dataset_characters).
        mode: "fill" (only frames without a caption; default dataset.caption_mode) or "overwrite".
    """
    return run_caption(ctx, DatasetStore.open(ctx.settings, name, create=False), mode or ctx.settings.dataset.caption_mode)
