"""Streaming decoders: ffmpeg decodes and downscales, Python reads raw frames/samples from a pipe.

Scaling inside ffmpeg (multi-threaded, before the pipe) is what makes one analysis pass cheaper
than decoding full-resolution frames in Python and resizing them there.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tools.core.child_processes import Child, ChildFailed
from tools.core.types import ToolError


def analysis_size(width: int, height: int, target_width: int) -> tuple[int, int]:
    """Downscaled (w, h), even-sized, never upscaled."""
    if width <= target_width:
        w, h = width, height
    else:
        w, h = target_width, round(height * target_width / width)
    return max(2, w - w % 2), max(2, h - h % 2)


def iter_frames(ffmpeg: str, path: Path, size: tuple[int, int], fast: bool = True) -> Iterator[np.ndarray]:
    """Yield BGR uint8 frames of `size` (every decoded frame, in order).

    `fast` skips the H.264/HEVC deblocking filter while decoding: invisible once frames are scaled
    down for analysis, and a good share of the decoder's time.
    """
    w, h = size
    skip = ["-skip_loop_filter", "all"] if fast else []
    args = [ffmpeg, "-nostdin", "-v", "error", *skip, "-i", f"file:{path}", "-map", "0:v:0", "-an", "-sn", "-dn",
            "-vf", f"scale={w}:{h}:flags=bilinear", "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]
    finished = False
    with Child(args, what=f"decoding {path.name}") as child:
        frame_bytes = w * h * 3
        while True:
            buf = bytearray(frame_bytes)
            view, got = memoryview(buf), 0
            while got < frame_bytes:
                n = child.proc.stdout.readinto(view[got:])
                if not n:
                    break
                got += n
            if got < frame_bytes:
                break
            yield np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
        child.wait()
        finished = True
    failure = child.failure() if finished else None
    if failure is None:
        return
    if failure.reason != "exit":
        raise failure
    raise ToolError(f"decoding {path.name} failed: {failure.stderr_tail.split(' | ')[-1]}",
                    "the file may be truncated or use a codec this ffmpeg cannot decode")


class AudioLevels:
    """Reads a film's audio once (mono, 8 kHz float) in a background thread; RMS/peak per range."""

    RATE = 8000

    def __init__(self, ffmpeg: str, path: Path):
        args = [ffmpeg, "-nostdin", "-v", "error", "-i", f"file:{path}", "-map", "0:a:0", "-vn", "-sn",
                "-ac", "1", "-ar", str(self.RATE), "-f", "f32le", "pipe:1"]
        self._name = path.name
        self._data: bytes = b""
        self._error: ChildFailed | None = None
        self._child = Child(args, what=f"reading the audio of {path.name}", stderr="devnull")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._child as child:
            self._data = child.proc.stdout.read()
            child.wait()
        failure = child.failure()
        if failure is not None and failure.reason != "exit":
            self._error = failure  # a limit or a signal: never a silent, short soundtrack

    def samples(self) -> np.ndarray:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return np.frombuffer(self._data, dtype=np.float32)

    def level(self, start: float, end: float) -> tuple[float, float] | None:
        """(RMS dBFS, peak dBFS) of [start, end) seconds; None when there is no audio there."""
        x = self.samples()
        a, b = int(start * self.RATE), int(end * self.RATE)
        seg = x[a:b]
        if seg.size == 0:
            return None
        rms = float(np.sqrt(np.mean(np.square(seg, dtype=np.float64))))
        peak = float(np.max(np.abs(seg)))
        to_db = lambda v: round(20 * np.log10(max(v, 1e-6)), 2)
        return to_db(rms), to_db(peak)
