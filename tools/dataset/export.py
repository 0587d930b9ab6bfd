"""Stage 5 — export: per character, the kohya_ss layout and the diffusers imagefolder layout.

kohya:     export/kohya/<character>/img/<repeats>_<trigger> <class>/<id>.png + <id>.txt
           export/kohya/<character>/dataset_config.toml
diffusers: export/diffusers/<character>/<id>.png + metadata.jsonl ({"file_name", "text"})
Captions put the exported character's trigger first (kohya keep_tokens=1 keeps it in place).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Literal

import tomli_w

from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.types import Artifact, ToolError
from tools.dataset.metadata import DatasetStore, FrameItem, fingerprint
from tools.dataset.stage import StageClock, StageResult

ExportFormat = Literal["kohya", "diffusers", "both"]


def caption_for(item: FrameItem, trigger: str) -> str:
    parts = [p.strip() for p in (item.caption or "").split(",") if p.strip()]
    return ", ".join([trigger] + [p for p in parts if p != trigger])


def character_items(store: DatasetStore, character: str) -> list[FrameItem]:
    return [i for i in store.items(kept_after="filter")
            if i.status("caption") == "done" and character in i.characters]


def _place(src: Path, dst: Path) -> None:
    """Hard-link the frame (no extra disk), copy across filesystems."""
    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def export_kohya(store: DatasetStore, character: str, repeats: int, class_word: str, resolution: int) -> Path:
    info = store.meta.characters[character]
    root = store.root / "export" / "kohya" / character
    shutil.rmtree(root, ignore_errors=True)
    img_dir = root / "img" / f"{repeats}_{info.trigger} {class_word}"
    img_dir.mkdir(parents=True)
    for item in character_items(store, character):
        _place(store.abspath(item.file), img_dir / Path(item.file).name)
        (img_dir / f"{item.id}.txt").write_text(caption_for(item, info.trigger) + "\n", encoding="utf-8")
    config = {
        "general": {"shuffle_caption": True, "caption_extension": ".txt", "keep_tokens": 1},
        "datasets": [{"resolution": resolution, "batch_size": 1, "enable_bucket": True,
                      "subsets": [{"image_dir": str(img_dir), "num_repeats": repeats,
                                   "class_tokens": f"{info.trigger} {class_word}"}]}],
    }
    (root / "dataset_config.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    return root


def export_diffusers(store: DatasetStore, character: str) -> Path:
    info = store.meta.characters[character]
    root = store.root / "export" / "diffusers" / character
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    lines = []
    for item in character_items(store, character):
        name = Path(item.file).name
        _place(store.abspath(item.file), root / name)
        lines.append(json.dumps({"file_name": name, "text": caption_for(item, info.trigger),
                                 "timestamp": item.timestamp, "scene": item.scene}, ensure_ascii=False))
    (root / "metadata.jsonl").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return root


def run_export(ctx: ToolContext, store: DatasetStore, fmt: ExportFormat, characters: list[str] | None = None) -> StageResult:
    s = ctx.settings.dataset
    known = sorted(store.meta.characters)
    if not known:
        raise ToolError(f"dataset {store.meta.name} has no characters yet", "run the characters stage with --refs first")
    chosen = characters or known
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise ToolError(f"unknown characters {unknown}", f"known: {known}")
    clock = StageClock("export", fingerprint(fmt, chosen, s.repeats, s.class_word))
    artifacts = []
    exports: dict[str, dict[str, str]] = store.meta.outputs.setdefault("exports", {})
    with ctx.progress.task("export", total=len(chosen)) as task:
        for character in chosen:
            n = len(character_items(store, character))
            clock.counts[f"character:{character}"] = n
            if n == 0:
                clock.notes.append(f"{character}: no captioned frames, nothing exported")
            for kind in (["kohya", "diffusers"] if fmt == "both" else [fmt]):
                root = (export_kohya(store, character, s.repeats, s.class_word, s.resolution) if kind == "kohya"
                        else export_diffusers(store, character))
                exports.setdefault(character, {})[kind] = str(root)
                artifacts.append(Artifact(path=ctx.workspace.relative(root), kind="dataset",
                                          metadata={"character": character, "format": kind, "images": n}))
            task.advance()
    return clock.finish(ctx, store, artifacts)


@tool(family="dataset")
def dataset_export(ctx: ToolContext, name: str, format: ExportFormat = "both",
                   characters: list[str] | None = None) -> StageResult:
    """Export the captioned frames per character as a kohya_ss folder and/or a diffusers imagefolder.

    Args:
        name: The dataset name (after dataset_caption).
        format: "kohya", "diffusers" or "both".
        characters: Only these characters (default: all with references).
    """
    return run_export(ctx, DatasetStore.open(ctx.settings, name, create=False), format, characters)
