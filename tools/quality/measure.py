"""Measurements with ffmpeg's own analysis filters (blackdetect, freezedetect, ebur128, silencedetect).

One decode pass per stream kind; the filters log to stderr and we parse their lines. Audio is also
decoded once to a small mono PCM array for per-window energy and sample clipping.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from tools.core.child_processes import run_child
from tools.media.ffmpeg import require_binary, run_tool

ANALYSIS_RATE = 16000  # Hz: enough for speech energy, small enough to keep minutes of audio cheap


class Interval(BaseModel):
    start: float
    end: float

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


class VideoMeasures(BaseModel):
    black: list[Interval]
    frozen: list[Interval]


class AudioMeasures(BaseModel):
    integrated_lufs: float | None
    true_peak_db: float | None
    silences: list[Interval]


_NUM = r"(-?[0-9.]+|-?inf|nan)"


def _float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _pairs(starts: list[float], ends: list[float], until: float) -> list[Interval]:
    """Match start/end events; a start without an end lasts until the end of the stream."""
    out = []
    for k, start in enumerate(starts):
        end = ends[k] if k < len(ends) else until
        out.append(Interval(start=start, end=max(start, end)))
    return out


def measure_video(path: Path, duration: float, *, black_min_s: float, black_pix_th: float, freeze_min_s: float,
                  freeze_noise_db: float, ffmpeg: str = "ffmpeg") -> VideoMeasures:
    exe = require_binary(ffmpeg, "video.ffmpeg")
    chain = (f"scale=320:-2,blackdetect=d={black_min_s}:pix_th={black_pix_th},"
             f"freezedetect=n={freeze_noise_db}dB:d={freeze_min_s}")
    proc = run_tool([exe, "-hide_banner", "-nostats", "-i", str(path), "-map", "0:v:0", "-vf", chain, "-an",
                     "-f", "null", "-"], timeout=600, what="video analysis (blackdetect/freezedetect)")
    log = proc.stderr.decode("utf-8", "replace")
    black = [Interval(start=float(a), end=float(b)) for a, b in
             re.findall(r"black_start:\s*([0-9.]+)\s+black_end:\s*([0-9.]+)", log)]
    f_start = [float(x) for x in re.findall(r"freeze_start:\s*([0-9.]+)", log)]
    f_end = [float(x) for x in re.findall(r"freeze_end:\s*([0-9.]+)", log)]
    frozen = [piece for f in _pairs(f_start, f_end, duration) for piece in _minus(f, black) if piece.duration > 0.05]
    return VideoMeasures(black=black, frozen=frozen)  # black is also "frozen": counted once, as black


def _minus(interval: Interval, holes: list[Interval]) -> list[Interval]:
    pieces = [interval]
    for hole in holes:
        nxt = []
        for p in pieces:
            if hole.end <= p.start or hole.start >= p.end:
                nxt.append(p)
                continue
            if hole.start > p.start:
                nxt.append(Interval(start=p.start, end=hole.start))
            if hole.end < p.end:
                nxt.append(Interval(start=hole.end, end=p.end))
        pieces = nxt
    return pieces


def measure_audio(path: Path, duration: float, *, silence_db: float, silence_min_s: float,
                  ffmpeg: str = "ffmpeg") -> AudioMeasures:
    exe = require_binary(ffmpeg, "video.ffmpeg")
    # framelog=40 (verbose) keeps the per-frame lines out of the log; only the summary is printed.
    chain = f"silencedetect=n={silence_db}dB:d={silence_min_s},ebur128=peak=true:framelog=40"
    proc = run_tool([exe, "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0", "-af", chain, "-vn",
                     "-f", "null", "-"], timeout=600, what="audio analysis (ebur128/silencedetect)")
    log = proc.stderr.decode("utf-8", "replace")
    summary = log[log.rfind("Summary:"):] if "Summary:" in log else ""
    lufs = re.search(r"I:\s*" + _NUM + r"\s*LUFS", summary)
    peak = re.search(r"True peak:\s*Peak:\s*" + _NUM + r"\s*dBFS", summary, flags=re.S)
    s_start = [float(x) for x in re.findall(r"silence_start:\s*(-?[0-9.]+)", log)]
    s_end = [float(x) for x in re.findall(r"silence_end:\s*(-?[0-9.]+)", log)]
    return AudioMeasures(integrated_lufs=_float(lufs.group(1)) if lufs else None,
                         true_peak_db=_float(peak.group(1)) if peak else None,
                         silences=_pairs([max(0.0, s) for s in s_start], s_end, duration))


def decode_mono(path: Path, ffmpeg: str = "ffmpeg", rate: int = ANALYSIS_RATE) -> np.ndarray:
    """The first audio stream as mono float32 in [-1, 1] at `rate` Hz."""
    exe = require_binary(ffmpeg, "video.ffmpeg")
    proc = run_child([exe, "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-vn",
                      "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"], what=f"decoding the audio of {path.name}",
                     timeout_s=600, check=False)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-2:]
        from tools.core.types import ToolError

        raise ToolError(f"could not decode the audio of {path.name}: {' | '.join(tail)}",
                        "check that the file has a readable audio stream")
    return np.frombuffer(proc.stdout, dtype="<i2").astype(np.float32) / 32768.0


def rms_db(samples: np.ndarray) -> float:
    if samples.size == 0:
        return -120.0
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples, dtype=np.float64))) + 1e-6))


def frame_energies_db(samples: np.ndarray, rate: int = ANALYSIS_RATE, frame_s: float = 0.05) -> np.ndarray:
    n = int(rate * frame_s)
    usable = samples[: len(samples) // n * n].reshape(-1, n) if len(samples) >= n else samples[None, :]
    return 20 * np.log10(np.sqrt(np.mean(np.square(usable, dtype=np.float64), axis=1)) + 1e-6)


def stream_durations(probe: dict) -> dict[str, float]:
    """Per-kind duration of the first video and audio streams from ffprobe JSON (falls back to tags)."""
    out: dict[str, float] = {}
    for stream in probe.get("streams", []):
        kind = stream.get("codec_type")
        if kind in ("video", "audio") and kind not in out:
            raw = stream.get("duration") or (stream.get("tags") or {}).get("DURATION")
            value = _duration(raw)
            if value is not None:
                out[kind] = value
    return out


def _duration(raw: str | None) -> float | None:
    if not raw:
        return None
    if ":" in str(raw):  # Matroska tag form HH:MM:SS.fffffffff
        h, m, s = str(raw).split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    return _float(str(raw))
