"""Stage 2 — filter: measure each frame once, then decide keep/drop with the current thresholds.

Decisions, in order, each recorded with its score: unreadable → too dark / too bright → blurry
(Laplacian variance) → title/credit card → near-duplicate (perceptual hash, within and across
scenes; the sharpest of a group is kept) → not among the best `frames_per_batch` of a run of
`batch_size` consecutive frames of one scene.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.dataset.executor import make_executor
from tools.dataset.frame_quality import MEASURE_VERSION, measure_fingerprint, phash_distance, score_frame_file
from tools.dataset.metadata import DatasetStore, FrameItem, StageRecord, fingerprint
from tools.dataset.stage import StageClock, StageResult


def measure_all(ctx: ToolContext, store: DatasetStore, clock: StageClock) -> list[FrameItem]:
    """Measure frames whose cached scores are missing or stale; journal each as it finishes."""
    s = ctx.settings.dataset
    items = [i for i in store.items() if i.status("extract") == "done"]
    todo = []
    for item in items:
        rec = item.stages.get("filter")
        fresh = rec is not None and rec.fingerprint == measure_fingerprint(item, store.abspath(item.file))
        if fresh and (rec.scores or rec.status == "failed"):
            clock.reused += 1
        else:
            todo.append(item)
    paths = {str(store.abspath(i.file)): i for i in todo}
    executor = make_executor(s.executor, s.workers)
    with ctx.progress.task("filter: measuring frames", total=len(todo)) as task:
        for path, result in executor.map(score_frame_file, list(paths)):
            item = paths[path]
            fp = measure_fingerprint(item, Path(path))
            if isinstance(result, Exception):
                item.stages["filter"] = StageRecord(status="failed", fingerprint=fp, reason=f"unreadable frame: {result}")
            else:
                item.stages["filter"] = StageRecord(status="pending", fingerprint=fp, scores=result)
            clock.redone += 1
            store.record(item)
            task.advance()
    return items


def decide(items: list[FrameItem], s) -> None:
    """Re-make every keep/drop decision from cached scores and the thresholds in `s`."""
    survivors: list[FrameItem] = []
    for item in items:
        rec = item.stages["filter"]
        if rec.status == "failed" and not rec.scores:
            continue
        sc = rec.scores
        reason = ""
        if sc["brightness"] < s.dark_max:
            reason = f"too dark (brightness {sc['brightness']:.3f} < dark_max {s.dark_max})"
        elif sc["brightness"] > s.bright_min:
            reason = f"too bright (brightness {sc['brightness']:.3f} > bright_min {s.bright_min})"
        elif sc["blur"] < s.blur_min:
            reason = f"blurry (laplacian variance {sc['blur']:.1f} < blur_min {s.blur_min})"
        elif sc["flat_fraction"] >= s.title_flat_min and sc["glyphs"] >= s.title_glyphs_min:
            reason = (f"title/credit card (flat background {sc['flat_fraction']:.2f} >= {s.title_flat_min}, "
                      f"{sc['glyphs']} text-like shapes >= {s.title_glyphs_min})")
        item.stages["filter"] = StageRecord(status="dropped" if reason else "kept", fingerprint=rec.fingerprint,
                                            reason=reason, scores=sc)
        if not reason:
            survivors.append(item)
    _drop_duplicates(survivors, s.phash_distance)
    _best_per_batch([i for i in survivors if i.status("filter") == "kept"], s.batch_size, s.frames_per_batch)


def _drop_duplicates(items: list[FrameItem], max_distance: int) -> None:
    """Greedy by sharpness: a frame within `max_distance` bits of a kept one is its duplicate."""
    kept: list[FrameItem] = []
    for item in sorted(items, key=lambda i: (-i.stages["filter"].scores["blur"], i.frame_index)):
        h = item.stages["filter"].scores["phash"]
        match = next(((k, d) for k in kept if (d := phash_distance(h, k.stages["filter"].scores["phash"])) <= max_distance), None)
        if match:
            other, d = match
            where = "same scene" if other.scene == item.scene else f"scene {other.scene}"
            rec = item.stages["filter"]
            rec.status, rec.reason = "dropped", f"near-duplicate of {other.id} ({where}, phash distance {d} <= {max_distance})"
            rec.scores["duplicate_of"] = other.id
        else:
            kept.append(item)


def _best_per_batch(items: list[FrameItem], batch_size: int, keep: int) -> None:
    if batch_size <= 1 or keep >= batch_size:
        return
    by_scene: dict[int, list[FrameItem]] = defaultdict(list)
    for item in sorted(items, key=lambda i: i.frame_index):
        by_scene[item.scene].append(item)
    for scene, frames in by_scene.items():
        for start in range(0, len(frames), batch_size):
            batch = frames[start:start + batch_size]
            ranked = sorted(batch, key=lambda i: -i.stages["filter"].scores["blur"])
            for rank, item in enumerate(ranked[keep:], start=keep + 1):
                rec = item.stages["filter"]
                best = ranked[0].stages["filter"].scores["blur"]
                rec.status = "dropped"
                rec.reason = (f"not best of batch (scene {scene}, rank {rank}/{len(batch)}, "
                              f"sharpness {rec.scores['blur']:.0f} < best {best:.0f})")


def run_filter(ctx: ToolContext, store: DatasetStore) -> StageResult:
    s = ctx.settings.dataset
    params = [s.dark_max, s.bright_min, s.blur_min, s.title_flat_min, s.title_glyphs_min, s.phash_distance,
              s.batch_size, s.frames_per_batch]
    clock = StageClock("filter", fingerprint(MEASURE_VERSION, params))
    items = measure_all(ctx, store, clock)
    decide(items, s)
    for item in items:
        rec = item.stages["filter"]
        clock.counts[rec.status] += 1
        if rec.reason:
            clock.reasons[rec.reason.split(" (")[0]] += 1
    return clock.finish(ctx, store)


@tool(family="dataset")
def dataset_filter(ctx: ToolContext, name: str) -> StageResult:
    """Drop blurry, badly exposed, duplicate and title-card frames; keep the best frame of each batch.

    Thresholds come from the dataset settings; every decision is saved with its score so
    `animstudio dataset status` can say why a frame was dropped. Changing a threshold re-decides
    from cached scores without re-reading frames.

    Args:
        name: The dataset name (after dataset_extract).
    """
    return run_filter(ctx, DatasetStore.open(ctx.settings, name, create=False))
