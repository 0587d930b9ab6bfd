"""Run the dataset stages in order (`--from` / `--until`), as the CLI and benchmark do."""
from __future__ import annotations

from pathlib import Path

from tools.core.context import ToolContext
from tools.core.types import ToolError, ToolResult
from tools.dataset.metadata import DatasetStore

PIPELINE_STAGES = ["extract", "filter", "characters", "caption", "export", "train", "infer"]


def stage_range(start: str | None, until: str | None) -> list[str]:
    for name in (start, until):
        if name and name not in PIPELINE_STAGES:
            raise ToolError(f"unknown stage {name!r}", f"stages: {', '.join(PIPELINE_STAGES)}")
    i = PIPELINE_STAGES.index(start) if start else 0
    j = PIPELINE_STAGES.index(until) + 1 if until else len(PIPELINE_STAGES)
    if i >= j:
        raise ToolError(f"--from {start} comes after --until {until}", "swap them")
    return PIPELINE_STAGES[i:j]


def run_pipeline(ctx: ToolContext, name: str, film: Path | None = None, refs: Path | None = None,
                 start: str | None = None, until: str | None = None, characters: list[str] | None = None,
                 max_steps: int | None = None) -> list[ToolResult]:
    """Each stage reopens the store, so a stage run alone and a stage run here behave the same."""
    from tools.dataset.caption import run_caption
    from tools.dataset.characters import run_characters
    from tools.dataset.export import run_export
    from tools.dataset.extract import extract_frames
    from tools.dataset.filter import run_filter

    s = ctx.settings.dataset
    results: list[ToolResult] = []
    for stage in stage_range(start, until):
        store = DatasetStore.open(ctx.settings, name, create=stage == "extract")
        if stage == "extract":
            if film is None:
                raise ToolError("the extract stage needs --film", "pass the film's path")
            results.append(extract_frames(ctx, store, film, s.extract_mode, s.interval_s))
        elif stage == "filter":
            results.append(run_filter(ctx, store))
        elif stage == "characters":
            refs_dir = refs or (Path(store.meta.refs_dir) if store.meta.refs_dir else None)
            if refs_dir is None:
                raise ToolError("the characters stage needs --refs", "a folder with refs/<character>/*.png")
            results.append(run_characters(ctx, store, refs_dir))
        elif stage == "caption":
            results.append(run_caption(ctx, store, s.caption_mode))
        elif stage == "export":
            results.append(run_export(ctx, store, "both", characters))
        else:
            results.extend(_per_character(ctx, name, stage, characters or _trainable(store), max_steps))
    return results


def _trainable(store: DatasetStore) -> list[str]:
    from tools.dataset.export import character_items

    return [c for c in sorted(store.meta.characters) if character_items(store, c)]


def _per_character(ctx: ToolContext, name: str, stage: str, characters: list[str], max_steps: int | None) -> list[ToolResult]:
    """Training and sampling go through the registry so the scheduler holds `sdxl` while they run."""
    from tools.core.registry import invoke

    out = []
    for character in characters:
        if stage == "train":
            args = {"name": name, "character": character, "max_steps": max_steps}
            outcome = invoke("dataset_train_lora", args, ctx)
        else:
            outcome = invoke("dataset_infer", {"name": name, "character": character}, ctx)
        if not outcome.ok:
            raise ToolError(f"{stage} for {character} failed: {outcome.error}", outcome.hint)
        out.append(outcome)
    return out
