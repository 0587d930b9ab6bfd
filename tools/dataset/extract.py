"""Stage 1 — extract: keyframes per scene (PySceneDetect), at a fixed interval, or both.

Each frame is written once (frames/<frame index>.png) with its timestamp and scene id. Scene
detection is cached by film fingerprint + detector parameters, and frames already recorded are
never decoded-and-written again, so a re-run after a kill continues where it stopped.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import cv2

from tools.context import ToolContext
from tools.dataset.metadata import DatasetStore, FrameItem, StageRecord, file_fingerprint, fingerprint
from tools.dataset.stage import StageClock, StageResult
from tools.registry import InputPath, tool
from tools.types import ToolError

ExtractMode = Literal["scenes", "interval", "both"]


def detect_scene_spans(film: Path, detector: str, threshold: float, min_scene_len_s: float,
                       progress_task=None) -> tuple[list[tuple[float, float]], float, int]:
    """Scene spans in seconds, fps and frame count, decoded once with PySceneDetect."""
    from scenedetect import AdaptiveDetector, ContentDetector, SceneManager, open_video

    try:
        video = open_video(str(film), backend="opencv")
    except Exception as exc:
        raise ToolError(f"{film.name} cannot be opened as a video ({exc})", "check that the file is a complete video") from exc
    fps = float(video.frame_rate)
    total = int(video.duration.get_frames()) if video.duration else 0
    min_len = max(1, int(round(min_scene_len_s * fps)))
    det = (AdaptiveDetector(adaptive_threshold=threshold, min_scene_len=min_len) if detector == "adaptive"
           else ContentDetector(threshold=threshold, min_scene_len=min_len))
    manager = SceneManager()
    manager.auto_downscale = True
    manager.add_detector(det)
    if progress_task is not None:
        progress_task.update(total=total or None)
    chunk = max(1, int(fps * 4))
    while True:  # chunked so progress moves; detect_scenes continues from the current position
        n = manager.detect_scenes(video, duration=chunk)
        if progress_task is not None and n:
            progress_task.advance(n)
        if n < chunk:
            break
    spans = [(s.get_seconds(), e.get_seconds()) for s, e in manager.get_scene_list(start_in_scene=True)]
    if not spans and total:
        spans = [(0.0, total / fps)]
    if not total and spans:
        total = int(round(spans[-1][1] * fps))
    return spans, fps, total


def plan_frames(spans: list[tuple[float, float]], fps: float, total: int, mode: ExtractMode,
                interval_s: float) -> dict[int, tuple[int, set[str]]]:
    """frame index → (scene id, sources): scene midpoints and/or every `interval_s` seconds."""
    def scene_of(t: float) -> int:
        for i, (s, e) in enumerate(spans):
            if s <= t < e:
                return i
        return max(0, len(spans) - 1)

    wanted: dict[int, tuple[int, set[str]]] = {}
    last = max(0, total - 1)
    if mode in ("scenes", "both"):
        for i, (s, e) in enumerate(spans):
            idx = min(last, int(round((s + e) / 2 * fps)))
            wanted.setdefault(idx, (i, set()))[1].add("scene")
    if mode in ("interval", "both"):
        step = max(1, int(round(interval_s * fps)))
        for idx in range(step // 2, total, step):
            wanted.setdefault(idx, (scene_of(idx / fps), set()))[1].add("interval")
    return wanted


def extract_frames(ctx: ToolContext, store: DatasetStore, film: Path, mode: ExtractMode, interval_s: float) -> StageResult:
    s, v = ctx.settings.dataset, ctx.settings.video
    if not film.is_file() or film.stat().st_size == 0:
        raise ToolError(f"Film not found or empty: {film}", "give the path of a complete video file")
    film_fp = file_fingerprint(film)
    meta = store.meta
    if meta.film_fingerprint and meta.film_fingerprint != film_fp:
        ctx.logger.info("film changed: previous frames of %s are discarded", meta.name)
        meta.items.clear()
    meta.film, meta.film_fingerprint = str(film), film_fp
    threshold = v.adaptive_threshold if v.detector == "adaptive" else v.content_threshold
    scene_fp = fingerprint(film_fp, v.detector, threshold, v.min_scene_len_s)
    clock = StageClock("extract", fingerprint(scene_fp, mode, interval_s))
    if meta.outputs.get("scenes_fingerprint") == scene_fp and meta.scenes:
        spans, fps, total = meta.scenes, meta.fps, int(meta.outputs.get("frame_count", 0))
        clock.notes.append("scene detection reused")
    else:
        with ctx.progress.task(f"extract: detecting scenes in {film.name}") as task:
            spans, fps, total = detect_scene_spans(film, v.detector, threshold, v.min_scene_len_s, task)
        meta.scenes, meta.fps = [tuple(x) for x in spans], fps
        meta.outputs.update(scenes_fingerprint=scene_fp, frame_count=total)
        store.save()  # scene detection is the slow pass: never redo it after a kill
    wanted = plan_frames(spans, fps, total, mode, interval_s)
    for stale in [k for k, it in meta.items.items() if it.frame_index not in wanted]:
        del meta.items[stale]  # a parameter change removed this frame from the plan
    (store.root / "frames").mkdir(exist_ok=True)
    todo = []
    for idx, (scene, sources) in sorted(wanted.items()):
        item_id = f"f{idx:07d}"
        item = meta.items.get(item_id)
        if item and item.status("extract") == "done" and store.abspath(item.file).exists():
            item.scene, item.sources = scene, sorted(sources)  # cheap re-labelling, no re-decode
            clock.reused += 1
            clock.counts["done"] += 1
        else:
            todo.append((idx, item_id, scene, sources))
    with ctx.progress.task("extract: writing keyframes", total=len(todo)) as task:
        _write_frames(store, film, fps, todo, clock, task)
    return clock.finish(ctx, store)


def _write_frames(store: DatasetStore, film: Path, fps: float, todo: list, clock: StageClock, task) -> None:
    if not todo:
        return
    cap = cv2.VideoCapture(str(film))
    if not cap.isOpened():
        raise ToolError(f"OpenCV cannot decode {film.name}", "re-encode it with ffmpeg to H.264 MP4")
    pos = 0
    try:
        for idx, item_id, scene, sources in todo:
            # Near targets are reached by grabbing forward (exact); far ones by seeking.
            if idx < pos or idx - pos > max(48, int(fps * 4)):
                cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
                pos = idx
            while pos < idx and cap.grab():
                pos += 1
            ok, frame = cap.read()
            pos += 1 if ok else 0
            item = FrameItem(id=item_id, file=f"frames/{item_id}.png", frame_index=idx, timestamp=round(idx / fps, 4),
                             scene=scene, sources=sorted(sources))
            if not ok or frame is None:
                item.stages["extract"] = StageRecord(status="failed", reason="frame could not be decoded")
                clock.counts["failed"] += 1
                clock.reasons["frame could not be decoded"] += 1
            else:
                path = store.abspath(item.file)
                tmp = path.with_suffix(".tmp.png")
                if not cv2.imwrite(str(tmp), frame, [cv2.IMWRITE_PNG_COMPRESSION, 1]):
                    raise ToolError(f"cannot write {tmp}", "check free disk space and permissions")
                tmp.replace(path)
                item.height, item.width = frame.shape[:2]
                item.stages["extract"] = StageRecord(status="done", fingerprint=fingerprint(store.meta.film_fingerprint, idx))
                clock.counts["done"] += 1
            clock.redone += 1
            store.record(item)
            task.advance()
    finally:
        cap.release()


@tool(family="dataset")
def dataset_extract(ctx: ToolContext, name: str, film: InputPath, mode: ExtractMode | None = None,
                    interval_s: float | None = None) -> StageResult:
    """Extract keyframes from a film into datasets/<name>/frames: one per scene, every N seconds, or both.

    Args:
        name: The dataset name (a folder under paths.datasets_dir).
        film: The video file to extract from.
        mode: "scenes" (one keyframe per detected scene), "interval" (every interval_s seconds) or "both"; default dataset.extract_mode.
        interval_s: Seconds between interval frames; default dataset.interval_s.
    """
    s = ctx.settings.dataset
    interval = interval_s or s.interval_s
    if interval <= 0:
        raise ToolError("interval_s must be positive", "e.g. 2.0")
    store = DatasetStore.open(ctx.settings, name)
    return extract_frames(ctx, store, film, mode or s.extract_mode, interval)
