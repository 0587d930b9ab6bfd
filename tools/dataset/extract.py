"""Stage 1 — extract: keyframes per scene (PySceneDetect), at a fixed interval, or both.

Each frame is written once (frames/<frame index>.png) with its timestamp and scene id. Detection
and extraction share one decode pass (frame_pass.py over tools/video/scene_pass.py). The scene list is cached by film
fingerprint + detector parameters, so changing the interval or mode later only seeks to the new
frames; frames already written are never written again, so a re-run after a kill continues.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import cv2

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import ToolError
from tools.dataset.frame_pass import decode_pass
from tools.dataset.frame_quality import measure_fingerprint, score_frame
from tools.dataset.inputs import check_same_film, clear_frames
from tools.dataset.metadata import DatasetStore, FrameItem, StageRecord, file_fingerprint, fingerprint
from tools.dataset.stage import StageClock, StageResult
from tools.video.scene_pass import detector_settings

ExtractMode = Literal["scenes", "interval", "both"]


def plan_frames(spans: list[tuple[int, int]], keyframes: list[int], total: int, mode: ExtractMode,
                interval_frames: int) -> dict[int, tuple[int, set[str]]]:
    """frame index → (scene id, sources): each scene's keyframe and/or every `interval_frames` frames."""
    def scene_of(idx: int) -> int:
        for i, (s, e) in enumerate(spans):
            if s <= idx < e:
                return i
        return max(0, len(spans) - 1)

    wanted: dict[int, tuple[int, set[str]]] = {}
    if mode in ("scenes", "both"):
        for idx in keyframes:
            wanted.setdefault(idx, (scene_of(idx), set()))[1].add("scene")
    if mode in ("interval", "both"):
        for idx in range(interval_frames // 2, total, interval_frames):
            wanted.setdefault(idx, (scene_of(idx), set()))[1].add("interval")
    return wanted


def extract_frames(ctx: ToolContext, store: DatasetStore, film: Path, mode: ExtractMode, interval_s: float) -> StageResult:
    v = ctx.settings.video
    if not film.is_file() or film.stat().st_size == 0:
        raise ToolError(f"Film not found or empty: {film}", "give the path of a complete video file")
    from tools.media.probe import media_info

    # Decoding below happens in this process (OpenCV): only films that really decode get there.
    info = media_info(film, v.ffprobe, limits=ctx.settings.limits)
    if not info.has_video:
        raise ToolError(f"{film.name} has no video stream", "the dataset pipeline extracts frames from a video file")
    for warning in info.warnings:
        ctx.trace.event("dataset.film_warning", film=str(film), warning=warning)
    check_same_film(store, film)
    film_fp = file_fingerprint(film)
    meta = store.meta
    if meta.film_fingerprint and meta.film_fingerprint != film_fp:
        removed = clear_frames(store)  # no frame of the earlier version may stay beside the new ones
        ctx.trace.event("dataset.film_changed", dataset=meta.name, film=str(film), removed_files=removed)
        meta.items.clear()
        meta.outputs.pop("scenes_fingerprint", None)
    meta.film, meta.film_fingerprint = str(film), film_fp
    scene_fp = fingerprint(film_fp, detector_settings(v), MAX_CANDIDATES)
    clock = StageClock("extract", fingerprint(scene_fp, mode, interval_s, ctx.settings.dataset.frame_format))
    (store.root / "frames").mkdir(exist_ok=True)
    done = {it.frame_index for it in meta.items.values()
            if it.status("extract") == "done" and store.abspath(it.file).exists()}
    clock.reused = len(done)
    writer = _FrameWriter(store, clock, ctx.settings.dataset.frame_format, ctx.settings.dataset.jpeg_quality)
    if meta.outputs.get("scenes_fingerprint") == scene_fp:
        clock.notes.append("scene detection reused")
        fps, total = meta.fps, int(meta.outputs["frame_count"])
        spans = [tuple(x) for x in meta.outputs["scene_frames"]]
        keyframes = list(meta.outputs["scene_keyframes"])
        wanted = plan_frames(spans, keyframes, total, mode, _interval_frames(interval_s, fps))
        todo = sorted(i for i in wanted if i not in done)
        with ctx.progress.task("extract: writing keyframes", total=len(todo)) as task:
            _seek_and_write(film, fps, todo, writer, task)
    else:
        with ctx.progress.task(f"extract: {film.name} (scenes + keyframes, one pass)") as task:
            fps_probe = _probe_fps(film)
            result = decode_pass(film, v, interval_frames=_interval_frames(interval_s, fps_probe) if mode != "scenes" else 0,
                                 want_scene_keys=mode != "interval", skip=set(done),
                                 write=lambda idx, frame: writer.write(idx, frame, fps_probe),
                                 progress=lambda n, total: task.update(completed=n, total=total or None),
                                 max_candidates=MAX_CANDIDATES)
        fps, total, spans = result.fps, result.frames, result.spans
        keyframes = [result.keyframes[k] for k in sorted(result.keyframes)]
        meta.outputs.update(scenes_fingerprint=scene_fp, frame_count=total, scene_frames=[list(x) for x in spans],
                            scene_keyframes=keyframes)
        if mode == "interval":  # keyframes were not kept in this pass: a later mode change must re-decode
            meta.outputs.pop("scenes_fingerprint")
        wanted = plan_frames(spans, keyframes, total, mode, _interval_frames(interval_s, fps))
    meta.fps = fps
    meta.scenes = [(round(a / fps, 4), round(b / fps, 4)) for a, b in spans]
    for key, item in list(meta.items.items()):
        if item.frame_index not in wanted:
            del meta.items[key]  # a parameter change removed this frame from the plan
            continue
        item.scene, sources = wanted[item.frame_index]
        item.sources = sorted(sources)
    clock.counts.update(item.stages["extract"].status for item in meta.items.values() if "extract" in item.stages)
    clock.redone = writer.written
    return clock.finish(ctx, store)


MAX_CANDIDATES = 24


def _interval_frames(interval_s: float, fps: float) -> int:
    return max(1, int(round(interval_s * fps)))


def _probe_fps(film: Path) -> float:
    cap = cv2.VideoCapture(str(film))
    fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
    cap.release()
    if not fps or fps <= 0:
        raise ToolError(f"{film.name} cannot be opened as a video", "check that the file is a complete video")
    return fps


class _FrameWriter:
    """Writes a frame once (tmp + rename) and journals its item, so a kill loses nothing finished."""

    def __init__(self, store: DatasetStore, clock: StageClock, frame_format: str = "png", jpeg_quality: int = 95):
        self.store, self.clock, self.written = store, clock, 0
        self.store_format, self.jpeg_quality = frame_format, jpeg_quality

    def write(self, idx: int, frame, fps: float) -> None:
        item_id = f"f{idx:07d}"
        ext = self.store_format
        item = FrameItem(id=item_id, file=f"frames/{item_id}.{ext}", frame_index=idx, timestamp=round(idx / fps, 4), scene=-1)
        if frame is None:
            item.stages["extract"] = StageRecord(status="failed", reason="frame could not be decoded")
            self.clock.reasons["frame could not be decoded"] += 1
        else:
            path = self.store.abspath(item.file)
            tmp = path.with_suffix(f".tmp.{ext}")
            params = [cv2.IMWRITE_PNG_COMPRESSION, 1] if ext == "png" else [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]
            if not cv2.imwrite(str(tmp), frame, params):
                raise ToolError(f"cannot write {tmp}", "check free disk space and permissions")
            tmp.replace(path)
            item.height, item.width = frame.shape[:2]
            item.stages["extract"] = StageRecord(status="done", fingerprint=fingerprint(self.store.meta.film_fingerprint, idx))
            # Measure for the filter now, while the frame is decoded (no re-read; scores of the
            # decoded frame, before JPEG compression). Editing the file later invalidates them.
            item.stages["filter"] = StageRecord(status="pending", fingerprint=measure_fingerprint(item, path),
                                                scores=score_frame(frame))
        self.written += 1
        self.store.record(item)


def _seek_and_write(film: Path, fps: float, todo: list[int], writer: _FrameWriter, task) -> None:
    """Write frames missing from a finished plan (scenes known): grab forward when near, seek when far."""
    if not todo:
        return
    cap = cv2.VideoCapture(str(film))
    if not cap.isOpened():
        raise ToolError(f"OpenCV cannot decode {film.name}", "re-encode it with ffmpeg to H.264 MP4")
    pos = 0
    try:
        for idx in todo:
            if idx < pos or idx - pos > max(48, int(fps * 4)):
                cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
                pos = idx
            while pos < idx and cap.grab():
                pos += 1
            ok, frame = cap.read()
            pos += 1 if ok else 0
            writer.write(idx, frame if ok else None, fps)
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
