"""The dataset extract's decode: full-resolution frames from OpenCV through the shared scene pass.

Detection runs on a strided subsample of each frame (about PySceneDetect's own 256 px
auto-downscale, nearly free); interval frames are written as they pass and each scene's middle
frame comes from the pass's look-behind buffer (`tools/video/scene_pass.py`), so detection and
extraction cost one decode.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tools.core.types import ToolError
from tools.video.scene_pass import DetectorFeed, SceneBuffer, make_detector, scene_pass

DETECT_WIDTH = 256  # PySceneDetect's own auto-downscale target


@dataclass
class PassResult:
    fps: float
    frames: int
    spans: list[tuple[int, int]]  # [start, end) frame indices per scene
    keyframes: dict[int, int] = field(default_factory=dict)  # scene id -> frame index written
    failed: list[int] = field(default_factory=list)


def _read_frames(cap: cv2.VideoCapture) -> Iterator[np.ndarray]:
    while True:
        ok, frame = cap.read()
        if not ok:
            return
        yield frame


def _detect_view(frame: np.ndarray) -> np.ndarray:
    step = max(1, frame.shape[1] // DETECT_WIDTH)
    # Strided subsampling: ~free, and the detector only compares frames with each other.
    return np.ascontiguousarray(frame[::step, ::step]) if step > 1 else frame


def decode_pass(film: Path, vs, *, interval_frames: int, want_scene_keys: bool, skip: set[int],
                write: Callable[[int, np.ndarray], None], progress: Callable[[int, int], None] | None = None,
                max_candidates: int = 24) -> PassResult:
    """Decode every frame once; `write(idx, frame)` gets each interval frame and scene keyframe not in `skip`.

    `vs` is the video settings section: its detector settings place the cuts.
    """
    cap = cv2.VideoCapture(str(film))
    if not cap.isOpened():
        raise ToolError(f"{film.name} cannot be opened as a video", "check that the file is a complete video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    if fps <= 0:
        cap.release()
        raise ToolError(f"{film.name} reports no frame rate", "re-encode it with ffmpeg")
    total_hint = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    keyframes: dict[int, int] = {}
    writer = ThreadPoolExecutor(1)  # PNG encoding overlaps decoding (cv2 releases the GIL)
    pending = []

    def emit(idx: int, frame: np.ndarray) -> None:
        if idx not in skip:
            skip.add(idx)
            pending.append(writer.submit(write, idx, frame))
        if len(pending) > 8:  # bound memory held by frames waiting to be written
            pending.pop(0).result()

    def on_scene(start: int, end: int, buf: SceneBuffer) -> None:
        best = buf.middle(end) if want_scene_keys else None
        if best is not None:
            keyframes[len(keyframes)] = best[0]
            emit(*best)

    def on_frame(idx: int, frame: np.ndarray) -> None:
        if interval_frames and idx % interval_frames == interval_frames // 2:
            emit(idx, frame)

    try:
        passed = scene_pass(_read_frames(cap), DetectorFeed(make_detector(vs, fps), fps), on_scene=on_scene,
                            on_frame=on_frame, detect_view=_detect_view, keep_candidates=want_scene_keys,
                            max_candidates=max_candidates,
                            progress=(lambda n: progress(n, total_hint)) if progress else None)
        for fut in pending:
            fut.result()
    finally:
        writer.shutdown(wait=True)
        cap.release()
    if passed.frames == 0:
        raise ToolError(f"{film.name} has no decodable video frames", "check the file with `animstudio tools call probe_media`")
    if progress:
        progress(passed.frames, passed.frames)
    return PassResult(fps=fps, frames=passed.frames, spans=passed.spans, keyframes=keyframes)
