"""Video and audio scorers: duration, A/V sync, black and frozen stretches, resolution; loudness,
clipping, silence and whether speech is really where the script's lines are.

Blame rules (what the agent should redo):
- duration far from the target → "script" (the timeline follows the lines' spoken length);
- missing/short audio stream, A/V drift, black gaps, low resolution → "render";
- frozen stretches → "scene" (a clip padded with a held frame was too short for the voices);
- loudness and clipping → "audio_mix"; silent line windows or mostly silence → "voices".
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel

from tools.core.settings.sections import QualitySettings
from tools.core.types import ToolError
from tools.media.ffmpeg import ffprobe_json
from tools.quality.measure import (
    ANALYSIS_RATE,
    decode_mono,
    frame_energies_db,
    measure_audio,
    measure_video,
    rms_db,
    stream_durations,
)
from tools.quality.report import Check, ScoreReport, linear


class LineWindow(BaseModel):
    """One scripted line and where it should be heard in the final video (seconds)."""

    text: str
    start: float
    end: float
    speaker: str = ""


def _probe(path: Path, ffprobe: str) -> dict:
    if not path.exists():
        raise ToolError(f"File not found: {path}")
    if path.stat().st_size == 0:
        raise ToolError(f"{path.name} is empty (0 bytes)", "render the video again")
    return ffprobe_json(path, ffprobe)


def score_video(path: Path, q: QualitySettings, target_duration: float | None = None,
                ffmpeg: str = "ffmpeg", ffprobe: str = "ffprobe") -> ScoreReport:
    probe = _probe(path, ffprobe)
    check = Check("video", q.scorer_pass)
    video = next((s for s in probe.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        check.add(0.0, 3.0, f"{path.name} has no video stream", "render", hard=True)
        return check.report()
    duration = float(probe.get("format", {}).get("duration") or 0.0)
    streams = stream_durations(probe)
    check.metrics.update(duration=round(duration, 3), width=video.get("width"), height=video.get("height"),
                         stream_durations={k: round(v, 3) for k, v in streams.items()})
    if target_duration:
        rel = abs(duration - target_duration) / target_duration
        check.metrics["duration_error"] = round(rel, 4)
        check.add(linear(rel, q.duration_tolerance, 0.6), 1.5,
                  f"duration {duration:.1f}s vs target {target_duration:.1f}s ({rel:.0%} off)", "script", hard=True)
    if "audio" not in streams and not any(s.get("codec_type") == "audio" for s in probe.get("streams", [])):
        check.add(0.0, 1.5, "no audio stream: the voices and music were not muxed", "render", hard=True)
    else:
        drift = abs(streams.get("video", duration) - streams.get("audio", duration))
        check.metrics["av_drift_s"] = round(drift, 3)
        check.add(linear(drift, q.av_sync_max_s, 1.5), 1.0,
                  f"audio and video streams differ by {drift:.2f}s (A/V sync)", "render")
    m = measure_video(path, duration, black_min_s=q.black_min_s, black_pix_th=q.black_pix_th,
                      freeze_min_s=q.freeze_min_s, freeze_noise_db=q.freeze_noise_db, ffmpeg=ffmpeg)
    black = sum(i.duration for i in m.black)
    frozen = sum(i.duration for i in m.frozen)
    span = max(duration, 1e-6)
    check.metrics.update(black_s=round(black, 3), frozen_s=round(frozen, 3),
                         black=[i.model_dump() for i in m.black], frozen=[i.model_dump() for i in m.frozen])
    where = ", ".join(f"{i.start:.1f}-{i.end:.1f}s" for i in m.black[:4])
    check.add(linear(black / span, 0.02, 0.3), 1.5, f"black for {black:.1f}s ({where})", "render", hard=True)
    where = ", ".join(f"{i.start:.1f}-{i.end:.1f}s" for i in m.frozen[:4])
    check.add(linear(frozen / span, 0.05, 0.5), 1.0, f"frozen picture for {frozen:.1f}s ({where})", "scene",
              hard=True)
    height = int(video.get("height") or 0)
    check.add(linear(height, q.min_height, q.min_height / 3), 0.5,
              f"resolution {video.get('width')}x{height} is below {q.min_height}p", "render")
    return check.report()


def score_audio(path: Path, q: QualitySettings, lines: list[LineWindow] | None = None,
                ffmpeg: str = "ffmpeg", ffprobe: str = "ffprobe") -> ScoreReport:
    probe = _probe(path, ffprobe)
    if not any(s.get("codec_type") == "audio" for s in probe.get("streams", [])):
        return ScoreReport.skip("audio", f"{path.name} has no audio stream (the video scorer reports it)")
    check = Check("audio", q.scorer_pass)
    duration = float(probe.get("format", {}).get("duration") or 0.0)
    m = measure_audio(path, duration, silence_db=q.silence_db, silence_min_s=q.silence_min_s, ffmpeg=ffmpeg)
    samples = decode_mono(path, ffmpeg)
    # Near full scale rather than exactly 1.0: lossy codecs smear a clipped square top into ripples.
    clipped = float(np.mean(np.abs(samples) >= 0.99)) if samples.size else 0.0
    silent = sum(i.duration for i in m.silences)
    check.metrics.update(integrated_lufs=m.integrated_lufs, true_peak_db=m.true_peak_db,
                         clipped_ratio=round(clipped, 5), silence_s=round(silent, 3), duration=round(duration, 3))
    if m.integrated_lufs is None:  # ebur128 reports -70 LUFS or nothing for digital silence
        check.add(0.0, 2.0, "the soundtrack is silent (no measurable loudness)", "voices", hard=True)
    else:
        off = abs(m.integrated_lufs - q.target_lufs)
        check.add(linear(off, q.lufs_tolerance, 10.0), 1.0,
                  f"loudness {m.integrated_lufs:.1f} LUFS vs target {q.target_lufs:.1f} LUFS", "audio_mix")
    if m.true_peak_db is not None:
        check.add(linear(m.true_peak_db, q.true_peak_max_db, q.true_peak_max_db + 3.0), 1.0,
                  f"true peak {m.true_peak_db:+.1f} dBTP exceeds {q.true_peak_max_db:+.1f} dBTP", "audio_mix", hard=True)
    check.add(linear(clipped, 0.0005, 0.01), 1.0, f"{clipped:.2%} of samples are clipped at full scale",
              "audio_mix", hard=True)
    ratio = silent / max(duration, 1e-6)
    check.add(linear(ratio, 0.25, 0.8), 1.0, f"{ratio:.0%} of the soundtrack is silence",
              "voices" if lines else "audio_mix")
    if lines:
        _score_line_windows(check, samples, lines, q)
    return check.report()


def _score_line_windows(check: Check, samples: np.ndarray, lines: list[LineWindow], q: QualitySettings) -> None:
    """Speech is present where each line should be: its window is clearly louder than the quiet floor."""
    energies = frame_energies_db(samples)
    floor = float(np.percentile(energies, 10)) if energies.size else -120.0
    needed = max(q.silence_db, floor + 6.0)
    missing, levels = [], []
    for line in lines:
        a, b = int(line.start * ANALYSIS_RATE), int(line.end * ANALYSIS_RATE)
        level = rms_db(samples[max(0, a):max(0, b)])
        levels.append(round(level, 1))
        if b <= a or level < needed:
            missing.append(line)
    voiced = 1 - len(missing) / len(lines)
    check.metrics.update(line_levels_db=levels, quiet_floor_db=round(floor, 1), lines_voiced=len(lines) - len(missing))
    names = "; ".join(f"{m.text[:30]!r} at {m.start:.1f}s" for m in missing[:3])
    check.add(voiced, 2.0, f"{len(missing)}/{len(lines)} lines are not heard in their window ({names})", "voices",
              hard=True)
