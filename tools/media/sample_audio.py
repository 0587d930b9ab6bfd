"""The soundtrack of "The Tide Keeper": waves, birds, gull cries and a small melody, synthesised with numpy.

Each scene gets its own ambience so the audio changes at the cuts like the picture does.
"""
from __future__ import annotations

import numpy as np

SAMPLE_RATE = 44100
# A major-pentatonic melody (semitones above A3) played by the title and the sunset.
MELODY = [0, 4, 7, 9, 12, 9, 7, 4, 2, 4, 7, 4, 0, 2, 0, -3]


def _filtered_noise(n: int, rng: np.random.Generator, low: float, high: float, sr: int) -> np.ndarray:
    """Band-limited noise via the FFT (cheap for whole-scene lengths)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    spec[(freqs < low) | (freqs > high)] = 0
    out = np.fft.irfft(spec, n)
    return out / (np.abs(out).max() + 1e-9)


def _waves(n: int, rng: np.random.Generator, sr: int, level: float) -> np.ndarray:
    t = np.arange(n) / sr
    swell = 0.25 + 0.75 * (0.5 + 0.5 * np.sin(2 * np.pi * t / 4.5 + rng.uniform(0, 6))) ** 2
    return level * _filtered_noise(n, rng, 80, 900, sr) * swell


def _sweep(dur: float, f0: float, f1: float, sr: int, harmonics: int = 1) -> np.ndarray:
    t = np.arange(int(dur * sr)) / sr
    freq = np.linspace(f0, f1, len(t))
    phase = 2 * np.pi * np.cumsum(freq) / sr
    tone = sum(np.sin(phase * k) / k for k in range(1, harmonics + 1))
    return tone * np.sin(np.pi * np.linspace(0, 1, len(t)))  # smooth in and out


def _place(track: np.ndarray, sound: np.ndarray, at: int, gain: float) -> None:
    end = min(len(track), at + len(sound))
    if 0 <= at < end:
        track[at:end] += gain * sound[: end - at]


def _melody(n: int, sr: int, note_s: float, root_hz: float, level: float) -> np.ndarray:
    out = np.zeros(n)
    note_n = int(note_s * sr)
    t = np.arange(note_n) / sr
    env = np.minimum(1.0, t / 0.02) * np.exp(-3.0 * t)  # plucked: quick attack, decay
    for k in range(n // note_n + 1):
        hz = root_hz * 2 ** (MELODY[k % len(MELODY)] / 12)
        note = (np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(4 * np.pi * hz * t)) * env
        _place(out, note, k * note_n, level)
    return out


def _scene_audio(name: str, n: int, rng: np.random.Generator, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    if name == "title":
        return _melody(n, sr, 0.42, 220.0, 0.35)
    if name == "ocean":
        track = _waves(n, rng, sr, 0.45)
        for at in rng.uniform(0, max(0.1, n / sr - 0.3), max(1, n // (sr * 2))):
            _place(track, _sweep(0.18, 900, 1400, sr, 2), int(at * sr), 0.12)  # Pip's bubbly squeaks
        return track
    if name == "forest":
        track = 0.08 * _filtered_noise(n, rng, 200, 2500, sr)  # leaves in the wind
        for at in rng.uniform(0, max(0.1, n / sr - 0.3), max(2, int(n / sr * 2.5))):
            f0 = rng.uniform(2800, 4200)
            chirp = np.concatenate([_sweep(0.07, f0, f0 * 1.4, sr), np.zeros(int(0.04 * sr)),
                                    _sweep(0.07, f0, f0 * 1.5, sr)])
            _place(track, chirp, int(at * sr), 0.25)
        return track
    if name == "night_harbour":
        pad = 0.12 * (np.sin(2 * np.pi * 110 * t) + 0.6 * np.sin(2 * np.pi * 164.8 * t)) * (0.6 + 0.4 * np.sin(t))
        return pad + _waves(n, rng, sr, 0.15) + _melody(n, sr, 0.9, 110.0, 0.18)
    if name == "sunset_beach":
        track = _waves(n, rng, sr, 0.25) + _melody(n, sr, 0.6, 293.7, 0.2)
        for at in np.arange(0.5, n / sr - 0.5, 2.2):
            _place(track, _sweep(0.35, 1900, 1150, sr, 3), int(at * sr), 0.22)  # Gull's cry
        return track
    return np.zeros(n)


def render_soundtrack(plan: list[tuple[str, float, float]], duration_s: float, seed: int = 7,
                      sr: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float track in [-1, 1] for scenes given as (name, start_s, end_s)."""
    rng = np.random.default_rng(seed + 1000)
    track = np.zeros(int(round(duration_s * sr)))
    fade = int(0.01 * sr)
    for name, start, end in plan:
        a, b = int(round(start * sr)), min(len(track), int(round(end * sr)))
        part = _scene_audio(name, b - a, rng, sr)
        if len(part) > 2 * fade:  # 10 ms fades: a hard cut without a click
            part[:fade] *= np.linspace(0, 1, fade)
            part[-fade:] *= np.linspace(1, 0, fade)
        track[a:b] = part
    peak = np.abs(track).max()
    return (track * (0.7 / peak) if peak > 0 else track).astype(np.float32)
