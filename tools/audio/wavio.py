"""WAV reading/joining (the writer is tools/media/wav.py) and the ffmpeg finishing pass (pitch shift, EQ,
EBU R128 loudness, resample)."""
from __future__ import annotations

import io
import json
import math
import re
import wave
from pathlib import Path

import numpy as np

from tools.core.types import ToolError
from tools.media.ffmpeg import require_binary, run_tool


def read_wav(data: bytes | Path) -> tuple[np.ndarray, int]:
    """PCM WAV → (mono float32 samples in [-1, 1], sample rate)."""
    raw = data.read_bytes() if isinstance(data, Path) else data
    try:
        with wave.open(io.BytesIO(raw)) as wav:
            rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ToolError(f"the TTS backend returned audio that is not a PCM WAV ({exc})",
                        "check the backend's output format (media_type=wav)") from exc
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}.get(width)
    if dtype is None:
        raise ToolError(f"unsupported WAV sample width {width * 8} bit")
    samples = np.frombuffer(frames, dtype=dtype).astype(np.float32)
    if width == 1:
        samples = (samples - 128.0) / 128.0
    else:
        samples /= float(2 ** (8 * width - 1))
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear resampling: only used to join pieces whose backends disagree on the rate."""
    if rate == target or len(samples) == 0:
        return samples
    n = round(len(samples) * target / rate)
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples).astype(np.float32)


def rms_dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def pitch_filters(semitones: float, rate: int) -> list[str]:
    """Shift pitch without changing duration: play faster (asetrate), then stretch back (atempo)."""
    if abs(semitones) < 0.05:
        return []
    factor = 2 ** (semitones / 12.0)
    tempo = 1.0 / factor
    chain = [f"asetrate={rate * factor:.3f}", f"aresample={rate}"]
    while tempo < 0.5 or tempo > 2.0:  # atempo accepts 0.5..2 per instance
        step = 0.5 if tempo < 0.5 else 2.0
        chain.append(f"atempo={step}")
        tempo /= step
    chain.append(f"atempo={tempo:.6f}")
    return chain


def _measure_loudness(ffmpeg: str, src: Path, pre: list[str], target: float) -> dict | None:
    chain = ",".join([*pre, f"loudnorm=I={target}:TP=-1.5:LRA=11:print_format=json"])
    proc = run_tool([ffmpeg, "-hide_banner", "-nostdin", "-i", str(src), "-af", chain, "-f", "null", "-"],
                    timeout=120, what="ffmpeg loudness measurement")
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", proc.stderr.decode("utf-8", "replace"))
    if not match:
        return None
    stats = json.loads(match.group(0))
    try:
        if not math.isfinite(float(stats["input_i"])) or float(stats["input_i"]) < -70:
            return None  # silence: nothing to normalise
    except (KeyError, ValueError):
        return None
    return stats


def _gain_and_limit(gain_db: float) -> list[str]:
    return [f"volume={gain_db:.2f}dB", "alimiter=limit=0.841:level=false:latency=true"]  # 0.841 = -1.5 dBFS


def finish_audio(src: Path, dst: Path, *, rate_in: int, rate_out: int, semitones: float = 0.0,
                 filters: list[str] | None = None, loudness_lufs: float | None = -16.0,
                 ffmpeg: str = "ffmpeg") -> tuple[Path, float | None]:
    """Pitch shift + voice filters (EQ) + EBU R128 loudness (measured, then one linear gain and a
    peak limiter, so timing and dynamics stay) + resample.

    Returns the output and the measured input loudness (None when not normalised).
    """
    exe = require_binary(ffmpeg, "video.ffmpeg")
    chain = pitch_filters(semitones, rate_in) + list(filters or [])
    measured: float | None = None
    if loudness_lufs is not None:
        stats = _measure_loudness(exe, src, chain, loudness_lufs)
        if stats is not None:
            measured = float(stats["input_i"])
            # A plain gain to the target, then a look-ahead peak limiter at -1.5 dBFS. loudnorm's own
            # second pass only stays linear when the peaks allow it; otherwise it switches to dynamic
            # mode, which needs 3 s of look-ahead and leaves short lines 20-40 LU too quiet.
            gain = loudness_lufs - measured
            limited = _measure_loudness(exe, src, [*chain, *_gain_and_limit(gain)], loudness_lufs)
            if limited is not None:  # the limiter shaved some loudness off the peaks: give it back once
                gain += loudness_lufs - float(limited["input_i"])
            chain += _gain_and_limit(gain)
    args = [exe, "-hide_banner", "-nostdin", "-y", "-i", str(src)]
    if chain:
        args += ["-af", ",".join(chain)]
    args += ["-ar", str(rate_out), "-ac", "1", "-c:a", "pcm_s16le", str(dst)]
    run_tool(args, timeout=120, what="ffmpeg audio finishing")
    return dst, measured
