"""One decoding pass over a film: PySceneDetect cuts + per-scene descriptors + keyframes + loudness."""
from __future__ import annotations

import inspect
import time
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tools.core.types import ToolError
from tools.video.decode import AudioLevels, analysis_size, iter_frames
from tools.video.descriptors import SceneAccumulator, count_faces, measure_frame
from tools.video.models import Scene, timecode

ANALYSIS_VERSION = 4  # bump when descriptors change so old cache entries are not reused
_MAX_CANDIDATES = 32


def detector_params(vs) -> dict[str, Any]:
    """The settings that change the analysis result (part of the cache fingerprint)."""
    return {
        "v": ANALYSIS_VERSION, "detector": vs.detector, "adaptive_threshold": vs.adaptive_threshold,
        "adaptive_window": vs.adaptive_window, "min_content_val": vs.min_content_val,
        "content_threshold": vs.content_threshold, "min_scene_len_s": vs.min_scene_len_s,
        "analysis_width": vs.analysis_width, "sample_fps": vs.sample_fps, "faces": vs.detect_faces,
        "fast_decode": vs.fast_decode,
    }


def make_detector(vs, fps: float):
    """The configured PySceneDetect detector (AdaptiveDetector by default)."""
    try:
        from scenedetect.detectors import AdaptiveDetector, ContentDetector
    except ImportError as exc:
        raise ToolError("PySceneDetect is not installed", "pip install scenedetect (without its opencv extra)") from exc
    min_len = max(1, round(vs.min_scene_len_s * fps))  # frames: accepted by scenedetect 0.6 and 0.7
    if vs.detector == "adaptive":
        return AdaptiveDetector(adaptive_threshold=vs.adaptive_threshold, min_scene_len=min_len,
                                window_width=vs.adaptive_window, min_content_val=vs.min_content_val)
    return ContentDetector(threshold=vs.content_threshold, min_scene_len=min_len)


class DetectorFeed:
    """Feeds frames to a SceneDetector, hiding the 0.6 (frame numbers) / 0.7 (FrameTimecode) API split."""

    def __init__(self, detector, fps: Fraction):
        self.detector = detector
        self.fps = fps
        self._timecodes = "timecode" in inspect.signature(detector.process_frame).parameters
        if self._timecodes:
            from scenedetect import FrameTimecode

            self._tc = FrameTimecode

    def _arg(self, i: int):
        return self._tc(i, fps=self.fps) if self._timecodes else i

    @staticmethod
    def _frames(cuts) -> list[int]:
        return [int(getattr(c, "frame_num", c)) for c in cuts or []]

    def frame(self, i: int, img: np.ndarray) -> list[int]:
        return self._frames(self.detector.process_frame(self._arg(i), img))

    def end(self, last: int) -> list[int]:
        return self._frames(self.detector.post_process(self._arg(last)))


@dataclass
class _Candidate:
    frame: int
    image: np.ndarray


@dataclass
class _Open:
    start: int
    candidates: list[_Candidate] = field(default_factory=list)

    def add(self, cand: _Candidate) -> None:
        self.candidates.append(cand)
        if len(self.candidates) > _MAX_CANDIDATES:  # keep memory bounded, coverage uniform
            self.candidates = self.candidates[::2]


def _medoid(cands: list[_Candidate]) -> _Candidate:
    """The candidate closest to the scene's average look (a representative, not a transition frame)."""
    if len(cands) <= 2:
        return cands[len(cands) // 2]
    tiny = np.stack([cv2.resize(c.image, (16, 9), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
                     for c in cands])
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
    feed = DetectorFeed(make_detector(vs, fps_f), fps)
    audio = AudioLevels(vs.ffmpeg, path) if info.has_audio else None
    step = max(1, round(fps_f / vs.sample_fps))
    cuts: list[int] = []
    measures = []
    motion: list[tuple[int, float]] = []  # (frame, mean |Δluma|) against the frame before it
    finished: list[_Open] = []
    current = _Open(start=0)
    recent: deque[tuple[int, np.ndarray]] = deque(maxlen=8)
    prev_gray = None
    decoded = 0

    def on_cuts(new: list[int]) -> None:
        nonlocal current
        for c in sorted(new):
            if c <= current.start:
                continue
            cuts.append(c)
            nxt = _Open(start=c, candidates=[k for k in current.candidates if k.frame >= c])
            current.candidates = [k for k in current.candidates if k.frame < c]
            if not current.candidates:  # a short scene: take one of its frames still in the ring
                kept = [(i, f) for i, f in recent if current.start <= i < c]
                if kept:
                    current.candidates.append(_Candidate(*kept[len(kept) // 2]))
            finished.append(current)
            current = nxt

    small = (max(32, size[0] // 2), max(18, size[1] // 2))
    for n, frame in enumerate(iter_frames(vs.ffmpeg, path, size, vs.fast_decode)):
        recent.append((n, frame))
        # Motion and descriptors are sampled: the frame before each sample gives the motion pair.
        if n % step == step - 1 or n % step == 0:
            half = cv2.resize(frame, small, interpolation=cv2.INTER_AREA)
            gray = cv2.cvtColor(half, cv2.COLOR_BGR2GRAY)
            if n % step == 0:
                if prev_gray is not None and n > 0:
                    motion.append((n, float(cv2.absdiff(gray, prev_gray).mean()) / 255.0))
                measures.append(measure_frame(half, n))
                current.add(_Candidate(n, frame))
            prev_gray = gray
        decoded = n + 1
        new = feed.frame(n, frame)
        if new:
            on_cuts(new)
        if progress_task is not None and n % 24 == 0:
            progress_task.update(completed=n)
    n = decoded
    if n == 0:
        raise ToolError(f"{path.name} has no decodable video frames", "check that the file is a complete video")
    on_cuts(feed.end(n - 1))
    if not current.candidates and recent:
        kept = [(i, f) for i, f in recent if i >= current.start]
        current.candidates.append(_Candidate(*kept[len(kept) // 2]))
    finished.append(current)
    bounds = [o.start for o in finished] + [n]

    scenes: list[Scene] = []
    keyframes: dict[str, bytes] = {}
    mi = 0
    for idx, opened in enumerate(finished):
        a, b = bounds[idx], bounds[idx + 1]
        acc = SceneAccumulator()
        while mi < len(measures) and measures[mi].frame < b:
            if measures[mi].frame >= a:
                acc.measures.append(measures[mi])
            mi += 1
        acc.motion = [m for f, m in motion if a < f < b]  # a pair across the cut is not motion
        start_s, end_s = float(a / fps), float(b / fps)
        key = _medoid(opened.candidates) if opened.candidates else None
        faces = count_faces(key.image) if (key is not None and vs.detect_faces) else None
        loud = audio.level(start_s, end_s) if audio else None
        name = None
        if key is not None:
            ok, jpeg = cv2.imencode(".jpg", key.image, [cv2.IMWRITE_JPEG_QUALITY, 88])
            if ok:
                name = f"scene_{idx:04d}.jpg"
                keyframes[name] = jpeg.tobytes()
        scenes.append(Scene(
            index=idx, start=round(start_s, 4), end=round(end_s, 4), start_frame=a, end_frame=b,
            start_timecode=timecode(start_s), end_timecode=timecode(end_s), keyframe=name,
            keyframe_time=round(float(key.frame / fps), 4) if key is not None else None,
            descriptors=acc.descriptors(faces, loud),
        ))
    return FilmAnalysis(fps=float(fps), frames=n, width=info.width, height=info.height,
                        duration=float(n / fps), scenes=scenes, keyframes=keyframes,
                        seconds=round(time.perf_counter() - t0, 3))
