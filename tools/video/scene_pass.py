"""The one scene-detection pass: PySceneDetect fed frame by frame while the frames go by.

Video analysis (`analysis.py`: descriptors and a representative keyframe per scene) and the dataset
extract (`tools/dataset/frame_pass.py`: full-resolution keyframes and interval frames) both call
`scene_pass` with the frames of one decode: detection shares that decode instead of adding a
second pass (SceneManager's pass plus a seek-and-decode pass), keeping the cost near the decoder's.

Each open scene keeps a bounded look-behind buffer of candidate frames (`SceneBuffer`): when full,
every other frame is dropped and the stride doubles, so the candidates stay spread evenly over the
scene whatever its length, and memory stays under `buffer_bytes`.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from tools.core.types import ToolError

BUFFER_BYTES = 400 << 20  # at most this much decoded video held as keyframe candidates
PROGRESS_EVERY = 24  # frames between progress callbacks


def detector_settings(vs) -> dict[str, Any]:
    """The video settings that change where cuts fall (part of every cache fingerprint of cuts)."""
    return {"detector": vs.detector, "adaptive_threshold": vs.adaptive_threshold,
            "adaptive_window": vs.adaptive_window, "min_content_val": vs.min_content_val,
            "content_threshold": vs.content_threshold, "min_scene_len_s": vs.min_scene_len_s}


def make_detector(vs, fps: float):
    """The configured PySceneDetect detector (`video.detector`: AdaptiveDetector by default)."""
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

    def __init__(self, detector, fps: float):
        self.detector = detector
        self.fps = Fraction(fps).limit_denominator(1001)
        self._timecodes = "timecode" in inspect.signature(detector.process_frame).parameters
        if self._timecodes:
            from scenedetect import FrameTimecode

            self._tc = FrameTimecode

    def _arg(self, i: int):
        return self._tc(i, fps=self.fps) if self._timecodes else i

    @staticmethod
    def _frames(cuts) -> list[int]:
        return sorted(int(getattr(c, "frame_num", c)) for c in cuts or [])

    def frame(self, i: int, img: np.ndarray) -> list[int]:
        return self._frames(self.detector.process_frame(self._arg(i), img))

    def end(self, last: int) -> list[int]:
        return self._frames(self.detector.post_process(self._arg(last)))


class SceneBuffer:
    """Candidate frames of one open scene: every `stride`-th frame from `start`, at most `limit` of them."""

    def __init__(self, start: int, max_candidates: int):
        self.start, self.limit, self.stride = start, max_candidates, 1
        self.frames: list[tuple[int, np.ndarray]] = []

    def offer(self, idx: int, frame: np.ndarray) -> None:
        if (idx - self.start) % self.stride:
            return
        self.frames.append((idx, frame))
        if len(self.frames) > self.limit:
            self.stride *= 2
            self.frames = [(i, f) for i, f in self.frames if (i - self.start) % self.stride == 0]

    def split(self, cut: int) -> SceneBuffer:
        """Close this scene at `cut`: frames from `cut` on move to the buffer of the next scene."""
        nxt = SceneBuffer(cut, self.limit)
        for i, f in self.frames:
            if i >= cut:
                nxt.offer(i, f)
        self.frames = [(i, f) for i, f in self.frames if i < cut]
        return nxt

    def middle(self, end: int) -> tuple[int, np.ndarray] | None:
        """The candidate nearest the scene's middle frame (exact while the scene fits the buffer)."""
        mid = (self.start + end - 1) / 2
        return min(self.frames, key=lambda x: (abs(x[0] - mid), x[0])) if self.frames else None


@dataclass
class PassSpans:
    frames: int  # frames decoded
    spans: list[tuple[int, int]]  # [start, end) frame indices per scene


def scene_pass(frames: Iterable[np.ndarray], feed: DetectorFeed, *,
               on_scene: Callable[[int, int, SceneBuffer], None],
               on_frame: Callable[[int, np.ndarray], None] | None = None,
               detect_view: Callable[[np.ndarray], np.ndarray] | None = None,
               keep_candidates: bool = True, max_candidates: int = 24, buffer_bytes: int = BUFFER_BYTES,
               progress: Callable[[int], None] | None = None) -> PassSpans:
    """Run the detector over `frames` once; `on_scene(start, end, buffer)` is called as each scene closes.

    `detect_view(frame)` is what the detector sees (e.g. a downscaled view; default the frame);
    `on_frame(idx, frame)` sees every frame after detection, so a scene is always closed before a
    frame of the next one reaches it. Cuts at or before the open scene's start are ignored.
    """
    buf = SceneBuffer(0, max_candidates)
    cuts: list[int] = []

    def close_at(cut: int) -> None:
        nonlocal buf
        nxt = buf.split(cut)
        on_scene(buf.start, cut, buf)
        cuts.append(cut)
        buf = nxt

    idx = 0
    for frame in frames:
        if idx == 0 and frame.nbytes * max_candidates > buffer_bytes:
            buf.limit = max(4, buffer_bytes // frame.nbytes)  # 4K frames: fewer candidates per scene
        for cut in feed.frame(idx, detect_view(frame) if detect_view else frame):
            if cut > buf.start:
                close_at(cut)
        if keep_candidates:
            buf.offer(idx, frame)
        if on_frame is not None:
            on_frame(idx, frame)
        idx += 1
        if progress is not None and idx % PROGRESS_EVERY == 0:
            progress(idx)
    if idx:
        for cut in feed.end(idx - 1):
            if buf.start < cut < idx:
                close_at(cut)
        on_scene(buf.start, idx, buf)
    bounds = [0] + cuts + [idx]
    return PassSpans(frames=idx, spans=[(a, b) for a, b in zip(bounds, bounds[1:]) if b > a])
