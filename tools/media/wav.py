"""The one WAV writer: mono float samples in [-1, 1] → 16-bit PCM (speech, sound effects, the sample film)."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    pcm = np.clip(samples, -1.0, 1.0)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((pcm * 32767.0).astype("<i2").tobytes())
    return path
