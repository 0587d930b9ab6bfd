"""Measurements on rendered parodies: frames, band-limited audio levels, trace counts."""
from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import numpy as np

from tools.core.trace import read_trace

RATE = 8000


def frame(path: Path, t: float, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1",
                          "-vf", f"scale={w}:{h}", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w).astype(np.float32)


def mono(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE),
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def band_db(samples: np.ndarray, start: float, end: float, lo: float = 45.0, hi: float = 65.0) -> float:
    """Level of one frequency band (the film's 55 Hz hum, below the voices) between two times."""
    seg = samples[int(start * RATE):int(end * RATE)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg)))) ** 2
    freqs = np.fft.rfftfreq(len(seg), 1 / RATE)
    power = spec[(freqs >= lo) & (freqs <= hi)].sum() / max(1, len(seg))
    return float(10 * np.log10(power + 1e-12))


def tool_counts(trace: Path) -> Counter:
    return Counter(e["tool"] for e in read_trace(trace) if e["kind"] == "tool.call" and e.get("ok"))
