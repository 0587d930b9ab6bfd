"""Film analysis in one decoding pass (`scene_pass`): cuts + per-scene descriptors + keyframes + loudness."""
from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tools.core.types import ToolError
from tools.media.timecode import format_timecode
from tools.video.decode import AudioLevels, analysis_size, iter_frames
from tools.video.descriptors import FrameMeasures, SceneAccumulator, count_faces, describe_frame
from tools.video.models import Scene
from tools.video.scene_pass import DetectorFeed, detector_settings, make_detector, scene_pass

ANALYSIS_VERSION = 6  # bump when descriptors change so old cache entries are not reused
_MAX_CANDIDATES = 32


def detector_params(vs) -> dict[str, Any]:
    """The settings that change the analysis result (part of the cache fingerprint)."""
    return {"v": ANALYSIS_VERSION, **detector_settings(vs), "analysis_width": vs.analysis_width,
            "sample_fps": vs.sample_fps, "faces": vs.detect_faces, "fast_decode": vs.fast_decode}


def _medoid(cands: list[tuple[int, np.ndarray]]) -> tuple[int, np.ndarray]:
    """The candidate closest to the scene's average look (a representative, not a transition frame)."""
    if len(cands) <= 2:
        return cands[len(cands) // 2]
    tiny = np.stack([cv2.resize(img, (16, 9), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
                     for _, img in cands])
    dist = np.abs(tiny - tiny.mean(axis=0)).mean(axis=1)
    return cands[int(np.argmin(dist))]


@dataclass
class FilmAnalysis:
    fps: float
    frames: int
    width: int
    height: int
    duration: float
    scenes: list[Scene]
    keyframes: dict[str, bytes]  # file name → JPEG bytes
    seconds: float


def analyse(path: Path, info, vs, progress_task=None) -> FilmAnalysis:
    """Decode `path` once at analysis resolution and return scenes with descriptors and keyframes."""
    t0 = time.perf_counter()
    fps_f = info.fps or 25.0
    fps = Fraction(fps_f).limit_denominator(1001)
    size = analysis_size(info.width, info.height, vs.analysis_width)
    audio = AudioLevels(vs.ffmpeg, path) if info.has_audio else None
    step = max(1, round(fps_f / vs.sample_fps))
    small = (max(32, size[0] // 2), max(18, size[1] // 2))
    measures: list[FrameMeasures] = []
    motion: list[tuple[int, float]] = []  # (frame, mean |Δluma|) against the frame before it
    keys: list[tuple[int, np.ndarray] | None] = []  # per scene: the medoid candidate
    prev_gray = None

    def on_frame(n: int, frame: np.ndarray) -> None:
        nonlocal prev_gray
        # Motion and descriptors are sampled: the frame before each sample gives the motion pair.
        if n % step == step - 1 or n % step == 0:
            half = cv2.resize(frame, small, interpolation=cv2.INTER_AREA)
            gray = cv2.cvtColor(half, cv2.COLOR_BGR2GRAY)
            if n % step == 0:
                if prev_gray is not None and n > 0:
                    motion.append((n, float(cv2.absdiff(gray, prev_gray).mean()) / 255.0))
                measures.append(describe_frame(half, n))
            prev_gray = gray

    def on_scene(start: int, end: int, buf) -> None:
        keys.append(_medoid(buf.frames) if buf.frames else None)

    report = (lambda n: progress_task.update(completed=n)) if progress_task is not None else None
    passed = scene_pass(iter_frames(vs.ffmpeg, path, size, vs.fast_decode), DetectorFeed(make_detector(vs, fps_f), fps_f),
                        on_scene=on_scene, on_frame=on_frame, max_candidates=_MAX_CANDIDATES, progress=report)
    n = passed.frames
    if n == 0:
        raise ToolError(f"{path.name} has no decodable video frames", "check that the file is a complete video")

    scenes: list[Scene] = []
    keyframes: dict[str, bytes] = {}
    mi = 0
    for idx, ((a, b), key) in enumerate(zip(passed.spans, keys)):
        acc = SceneAccumulator()
        while mi < len(measures) and measures[mi].frame < b:
            if measures[mi].frame >= a:
                acc.measures.append(measures[mi])
            mi += 1
        acc.motion = [m for f, m in motion if a < f < b]  # a pair across the cut is not motion
        start_s, end_s = float(a / fps), float(b / fps)
        faces = count_faces(key[1]) if (key is not None and vs.detect_faces) else None
        loud = audio.level(start_s, end_s) if audio else None
        name = None
        if key is not None:
            ok, jpeg = cv2.imencode(".jpg", key[1], [cv2.IMWRITE_JPEG_QUALITY, 88])
            if ok:
                name = f"scene_{idx:04d}.jpg"
                keyframes[name] = jpeg.tobytes()
        scenes.append(Scene(
            index=idx, start=round(start_s, 4), end=round(end_s, 4), start_frame=a, end_frame=b,
            start_timecode=format_timecode(start_s), end_timecode=format_timecode(end_s), keyframe=name,
            keyframe_time=round(float(key[0] / fps), 4) if key is not None else None,
            descriptors=acc.descriptors(faces, loud),
        ))
    return FilmAnalysis(fps=float(fps), frames=n, width=info.width, height=info.height,
                        duration=float(n / fps), scenes=scenes, keyframes=keyframes,
                        seconds=round(time.perf_counter() - t0, 3))
