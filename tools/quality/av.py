"""Video and audio scorers: duration, A/V sync, black and frozen stretches, resolution; loudness,
clipping and silence.

Every problem is a coded finding (tools/core/findings.py); the codes' default blame says what to redo:
duration far from the target → script (the timeline follows the lines' spoken length); missing audio,
A/V drift, black gaps, frozen stretches, low resolution → render; loudness, true peak, clipping →
audio_mix; a silent soundtrack → voices. Whether each line is *heard* is the speech scorer's job.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel

from tools.core.findings import Blame, Code
from tools.core.settings.sections import QualitySettings
from tools.core.types import ToolError
from tools.media.ffmpeg import ffprobe_json
from tools.quality.measure import decode_mono, measure_audio, measure_video, stream_durations
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
                ffmpeg: str = "ffmpeg", ffprobe: str = "ffprobe", source_height: int | None = None) -> ScoreReport:
    """`source_height`: the film the video is cut from; the render never upscales, so a smaller film lowers the bar."""
    probe = _probe(path, ffprobe)
    check = Check("video", q.scorer_pass)
    video = next((s for s in probe.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        check.add(0.0, 3.0, f"{path.name} has no video stream", Code.no_video, hard=True)
        return check.report()
    duration = float(probe.get("format", {}).get("duration") or 0.0)
    streams = stream_durations(probe)
    check.metrics.update(duration=round(duration, 3), width=video.get("width"), height=video.get("height"),
                         stream_durations={k: round(v, 3) for k, v in streams.items()})
    if target_duration:
        rel = abs(duration - target_duration) / target_duration
        check.metrics["duration_error"] = round(rel, 4)
        check.add(linear(rel, q.duration_tolerance, 0.6), 1.5,
                  f"duration {duration:.1f}s vs target {target_duration:.1f}s ({rel:.0%} off)", Code.duration_off, hard=True,
                  over=duration > target_duration)
    if "audio" not in streams and not any(s.get("codec_type") == "audio" for s in probe.get("streams", [])):
        check.add(0.0, 1.5, "no audio stream: the voices and music were not muxed", Code.no_audio, hard=True)
    else:
        drift = abs(streams.get("video", duration) - streams.get("audio", duration))
        check.metrics["av_drift_s"] = round(drift, 3)
        check.add(linear(drift, q.av_sync_max_s, 1.5), 1.0,
                  f"audio and video streams differ by {drift:.2f}s (A/V sync)", Code.av_drift)
    m = measure_video(path, duration, black_min_s=q.black_min_s, black_pix_th=q.black_pix_th,
                      freeze_min_s=q.freeze_min_s, freeze_noise_db=q.freeze_noise_db, ffmpeg=ffmpeg)
    black = sum(i.duration for i in m.black)
    frozen = sum(i.duration for i in m.frozen)
    span = max(duration, 1e-6)
    check.metrics.update(black_s=round(black, 3), frozen_s=round(frozen, 3),
                         black=[i.model_dump() for i in m.black], frozen=[i.model_dump() for i in m.frozen])
    where = ", ".join(f"{i.start:.1f}-{i.end:.1f}s" for i in m.black[:4])
    check.add(linear(black / span, 0.02, 0.3), 1.5, f"black for {black:.1f}s ({where})", Code.black_picture, hard=True)
    where = ", ".join(f"{i.start:.1f}-{i.end:.1f}s" for i in m.frozen[:4])
    check.add(linear(frozen / span, 0.05, 0.5), 1.0, f"frozen picture for {frozen:.1f}s ({where})",
              Code.frozen_picture, hard=True)
    height = int(video.get("height") or 0)
    bar = min(q.min_height, source_height) if source_height else q.min_height
    check.add(linear(height, bar, bar / 3), 0.5,
              f"resolution {video.get('width')}x{height} is below {bar}p", Code.low_resolution)
    return check.report()


def score_audio(path: Path, q: QualitySettings, lines: list[LineWindow] | None = None,
                ffmpeg: str = "ffmpeg", ffprobe: str = "ffprobe", samples: np.ndarray | None = None) -> ScoreReport:
    """Levels of the mix. `samples`: the mix already decoded (16 kHz mono), shared with the speech scorer."""
    probe = _probe(path, ffprobe)
    if not any(s.get("codec_type") == "audio" for s in probe.get("streams", [])):
        return ScoreReport.skip("audio", f"{path.name} has no audio stream (the video scorer reports it)")
    check = Check("audio", q.scorer_pass)
    duration = float(probe.get("format", {}).get("duration") or 0.0)
    m = measure_audio(path, duration, silence_db=q.silence_db, silence_min_s=q.silence_min_s, ffmpeg=ffmpeg)
    samples = decode_mono(path, ffmpeg) if samples is None else samples
    # Near full scale rather than exactly 1.0: lossy codecs smear a clipped square top into ripples.
    clipped = float(np.mean(np.abs(samples) >= 0.99)) if samples.size else 0.0
    silent = sum(i.duration for i in m.silences)
    check.metrics.update(integrated_lufs=m.integrated_lufs, true_peak_db=m.true_peak_db,
                         clipped_ratio=round(clipped, 5), silence_s=round(silent, 3), duration=round(duration, 3))
    if m.integrated_lufs is None:  # ebur128 reports -70 LUFS or nothing for digital silence
        check.add(0.0, 2.0, "the soundtrack is silent (no measurable loudness)", Code.silent_soundtrack, hard=True)
    else:
        off = abs(m.integrated_lufs - q.target_lufs)
        check.add(linear(off, q.lufs_tolerance, 10.0), 1.0,
                  f"loudness {m.integrated_lufs:.1f} LUFS vs target {q.target_lufs:.1f} LUFS", Code.loudness_off)
    if m.true_peak_db is not None:
        check.add(linear(m.true_peak_db, q.true_peak_max_db, q.true_peak_max_db + 3.0), 1.0,
                  f"true peak {m.true_peak_db:+.1f} dBTP exceeds {q.true_peak_max_db:+.1f} dBTP", Code.true_peak, hard=True)
    check.add(linear(clipped, 0.0005, 0.01), 1.0, f"{clipped:.2%} of samples are clipped at full scale",
              Code.clipping, hard=True)
    ratio = silent / max(duration, 1e-6)
    check.add(linear(ratio, 0.25, 0.8), 1.0, f"{ratio:.0%} of the soundtrack is silence", Code.mostly_silence,
              blame=Blame.voices.value if lines else "")
    return check.report()

