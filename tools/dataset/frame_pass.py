"""One decode pass over a film: PySceneDetect's detector on downscaled frames, interval frames
written as they pass, and each scene's middle frame kept from a bounded look-behind buffer.

Decoding is the cost floor of any pipeline that looks at every frame; doing detection and
extraction in the same pass (instead of SceneManager's pass plus a second seek-and-decode pass)
keeps extraction close to that floor. The buffer holds at most `max_candidates` full frames per
scene: when full, every other one is dropped and the stride doubles, so the chosen keyframe is
within stride/2 of the true middle (exact for scenes up to `max_candidates` frames).
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tools.core.types import ToolError

DETECT_WIDTH = 256  # PySceneDetect's own auto-downscale target
BUFFER_BYTES = 400 << 20  # at most this much decoded video held as keyframe candidates


@dataclass
class PassResult:
    fps: float
    frames: int
    spans: list[tuple[int, int]]  # [start, end) frame indices per scene
    keyframes: dict[int, int] = field(default_factory=dict)  # scene id -> frame index written
    failed: list[int] = field(default_factory=list)


class _SceneBuffer:
    def __init__(self, start: int, max_candidates: int):
        self.start, self.max, self.stride = start, max_candidates, 1
        self.frames: list[tuple[int, np.ndarray]] = []

    def offer(self, idx: int, frame: np.ndarray) -> None:
        if (idx - self.start) % self.stride:
            return
        self.frames.append((idx, frame))
        if len(self.frames) > self.max:
            self.stride *= 2
            self.frames = [(i, f) for i, f in self.frames if (i - self.start) % self.stride == 0]

    def split(self, cut: int, max_candidates: int) -> _SceneBuffer:
        nxt = _SceneBuffer(cut, max_candidates)
        for i, f in self.frames:
            if i >= cut:
                nxt.offer(i, f)
        self.frames = [(i, f) for i, f in self.frames if i < cut]
        return nxt

    def middle(self, end: int) -> tuple[int, np.ndarray] | None:
        mid = (self.start + end - 1) / 2
        return min(self.frames, key=lambda x: (abs(x[0] - mid), x[0])) if self.frames else None


def make_detector(kind: str, threshold: float, min_len: int):
    from scenedetect import AdaptiveDetector, ContentDetector

    if kind == "adaptive":
        return AdaptiveDetector(adaptive_threshold=threshold, min_scene_len=min_len)
    return ContentDetector(threshold=threshold, min_scene_len=min_len)


def decode_pass(film: Path, *, detector: str, threshold: float, min_scene_len_s: float, interval_frames: int,
                want_scene_keys: bool, skip: set[int], write: Callable[[int, np.ndarray], None],
                progress: Callable[[int, int], None] | None = None, max_candidates: int = 24) -> PassResult:
    """Decode every frame once; `write(idx, frame)` gets each interval frame and scene keyframe not in `skip`."""
    cap = cv2.VideoCapture(str(film))
    if not cap.isOpened():
        raise ToolError(f"{film.name} cannot be opened as a video", "check that the file is a complete video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    if fps <= 0:
        cap.release()
        raise ToolError(f"{film.name} reports no frame rate", "re-encode it with ffmpeg")
    total_hint = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    det = make_detector(detector, threshold, max(1, int(round(min_scene_len_s * fps))))
    cuts: list[int] = []
    keyframes: dict[int, int] = {}
    buf = _SceneBuffer(0, max_candidates)
    writer = ThreadPoolExecutor(1)  # PNG encoding overlaps decoding (cv2 releases the GIL)
    pending = []

    def emit(idx: int, frame: np.ndarray) -> None:
        if idx not in skip:
            skip.add(idx)
            pending.append(writer.submit(write, idx, frame))

    def close_scene(end: int) -> None:
        nonlocal buf
        if want_scene_keys:
            best = buf.middle(end)
            if best is not None:
                keyframes[len(keyframes)] = best[0]
                emit(*best)

    idx = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            step = max(1, frame.shape[1] // DETECT_WIDTH)
            # Strided subsampling: ~free, and the detector only compares frames with each other.
            small = np.ascontiguousarray(frame[::step, ::step]) if step > 1 else frame
            for cut in det.process_frame(idx, small):
                if cut > buf.start:
                    nxt = buf.split(cut, max_candidates)
                    close_scene(cut)
                    cuts.append(cut)
                    buf = nxt
            if idx == 0 and frame.nbytes * max_candidates > BUFFER_BYTES:
                # 4K frames: fewer candidates, so the look-behind buffer stays under BUFFER_BYTES
                max_candidates = buf.max = max(4, BUFFER_BYTES // frame.nbytes)
            if want_scene_keys:
                buf.offer(idx, frame)
            if interval_frames and idx % interval_frames == interval_frames // 2:
                emit(idx, frame)
            idx += 1
            if progress and idx % 24 == 0:
                progress(idx, total_hint)
            if len(pending) > 8:  # bound memory held by frames waiting to be written
                pending.pop(0).result()
        for cut in det.post_process(idx) if idx else []:
            if buf.start < cut < idx:
                nxt = buf.split(cut, max_candidates)
                close_scene(cut)
                cuts.append(cut)
                buf = nxt
        if idx:
            close_scene(idx)
        for fut in pending:
            fut.result()
    finally:
        writer.shutdown(wait=True)
        cap.release()
    if idx == 0:
        raise ToolError(f"{film.name} has no decodable video frames", "check the file with `animstudio tools call probe_media`")
    bounds = [0] + cuts + [idx]
    spans = [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]
    if progress:
        progress(idx, idx)
    return PassResult(fps=fps, frames=idx, spans=spans, keyframes=keyframes)
