"""Run the dataset stages in order (`--from` / `--until`), as the CLI and benchmark do.

The order is `STAGES` (tools/dataset/stage.py); each stage name maps to the function that runs it
here (in no particular order: `run_pipeline` walks `STAGES`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.core.context import ToolContext
from tools.core.types import ToolError, ToolResult
from tools.dataset.metadata import DatasetStore
from tools.dataset.stage import STAGE_TOOLS, STAGES


def stage_range(start: str | None, until: str | None) -> list[str]:
    for name in (start, until):
        if name and name not in STAGES:
            raise ToolError(f"unknown stage {name!r}", f"stages: {', '.join(STAGES)}")
    i = STAGES.index(start) if start else 0
    j = STAGES.index(until) + 1 if until else len(STAGES)
    if i >= j:
        raise ToolError(f"--from {start} comes after --until {until}", "swap them")
    return list(STAGES[i:j])


@dataclass
class PipelineInputs:
    name: str
    film: Path | None
    refs: Path | None
    characters: list[str] | None
    max_steps: int | None


StageRunner = Callable[[ToolContext, DatasetStore, PipelineInputs], list[ToolResult]]


def _extract(ctx: ToolContext, store: DatasetStore, run: PipelineInputs) -> list[ToolResult]:
    from tools.dataset.extract import extract_frames

    if run.film is None:
        raise ToolError("the extract stage needs --film", "pass the film's path")
    return [extract_frames(ctx, store, run.film, ctx.settings.dataset.extract_mode, ctx.settings.dataset.interval_s)]


def _filter(ctx: ToolContext, store: DatasetStore, run: PipelineInputs) -> list[ToolResult]:
    from tools.dataset.filter import run_filter

    return [run_filter(ctx, store)]


def _characters(ctx: ToolContext, store: DatasetStore, run: PipelineInputs) -> list[ToolResult]:
    from tools.dataset.characters import run_characters

    refs_dir = run.refs or (Path(store.meta.refs_dir) if store.meta.refs_dir else None)
    if refs_dir is None:
        raise ToolError("the characters stage needs --refs", "a folder with refs/<character>/*.png")
    return [run_characters(ctx, store, refs_dir)]


def _caption(ctx: ToolContext, store: DatasetStore, run: PipelineInputs) -> list[ToolResult]:
    from tools.dataset.caption import run_caption

    return [run_caption(ctx, store, ctx.settings.dataset.caption_mode)]


def _export(ctx: ToolContext, store: DatasetStore, run: PipelineInputs) -> list[ToolResult]:
    from tools.dataset.export import run_export

    return [run_export(ctx, store, "both", run.characters)]


def _per_character(stage: str) -> StageRunner:
    """Training and sampling go through the registry so the scheduler holds `sdxl` while they run."""
    tool_name = STAGE_TOOLS[stage]

    def run_stage(ctx: ToolContext, store: DatasetStore, run: PipelineInputs) -> list[ToolResult]:
        from tools.core.registry import invoke

        out = []
        for character in run.characters or _trainable(store):
            args = {"name": run.name, "character": character}
            if tool_name == "dataset_train_lora":
                args["max_steps"] = run.max_steps
            outcome = invoke(tool_name, args, ctx)
            if not outcome.ok:
                raise ToolError(f"{stage} for {character} failed: {outcome.error}", outcome.hint)
            out.append(outcome)
        return out

    return run_stage


STAGE_RUNNERS: dict[str, StageRunner] = {
    "extract": _extract, "filter": _filter, "characters": _characters, "caption": _caption, "export": _export,
    "train": _per_character("train"), "infer": _per_character("infer"),
}


def run_pipeline(ctx: ToolContext, name: str, film: Path | None = None, refs: Path | None = None,
                 start: str | None = None, until: str | None = None, characters: list[str] | None = None,
                 max_steps: int | None = None) -> list[ToolResult]:
    """Each stage reopens the store, so a stage run alone and a stage run here behave the same."""
    run = PipelineInputs(name=name, film=film, refs=refs, characters=characters, max_steps=max_steps)
    stages = stage_range(start, until)
    if refs is not None and "characters" in stages:  # before minutes of extraction, not after
        from tools.dataset.inputs import check_references

        unreadable = check_references(refs)
        if unreadable:
            ctx.trace.event("dataset.refs_unreadable", files=unreadable)
    if film is not None and "extract" in stages and DatasetStore.exists(ctx.settings, name):
        from tools.dataset.inputs import check_same_film

        check_same_film(DatasetStore.open(ctx.settings, name, create=False), film)
    results: list[ToolResult] = []
    for stage in stages:
        store = DatasetStore.open(ctx.settings, name, create=stage == "extract")
        results.extend(STAGE_RUNNERS[stage](ctx, store, run))
    return results


def _trainable(store: DatasetStore) -> list[str]:
    from tools.dataset.export import character_items

    return [c for c in sorted(store.meta.characters) if character_items(store, c)]
