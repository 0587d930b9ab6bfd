"""The round trip that proves an exported timeline: melt renders the MLT file, and the result is held
against the project's own render — same duration (± 1 frame), the same source frames at sampled
times (mean difference on a 0–255 scale, burned subtitles and captions masked out), and every voice
line at the same time (the voice file cross-correlated with each render's sound)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from tools.media.ffmpeg import require_binary, run_tool
from tools.media.probe import media_info
from tools.video.edl import EDL
from tools.video.filtergraph import segment_duration

ANALYSIS_W = 160
RATE = 16000


def melt_render(mlt: Path, out: Path, *, melt: str = "melt", timeout: float = 600.0) -> Path:
    """Render an MLT XML file to an H.264/AAC MP4 with melt (the engine of Kdenlive and Shotcut)."""
    exe = require_binary(melt, "video.melt")
    run_tool([exe, "-silent", "-quiet", str(mlt), "-consumer", f"avformat:{out}", "vcodec=libx264", "preset=veryfast",
              "crf=18", "pix_fmt=yuv420p", "acodec=aac", "ar=48000", "channels=2", "real_time=0"],
             timeout=timeout, what="melt render of the MLT timeline")
    return out


def _gray(path: Path, t: float, height: int) -> np.ndarray:
    ff = require_binary("ffmpeg", "video.ffmpeg")
    raw = run_tool([ff, "-nostdin", "-v", "error", "-ss", f"{t:.4f}", "-i", str(path), "-frames:v", "1",
                    "-vf", f"scale={ANALYSIS_W}:{height}", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                   timeout=60, what="frame for the round trip").stdout
    return np.frombuffer(raw, np.uint8)[: ANALYSIS_W * height].reshape(height, ANALYSIS_W).astype(np.float32)


def picture_seconds(path: Path, fps: float) -> float:
    """Length of the picture: its frames counted, over the frame rate (the container's duration also
    counts the sound's encoder padding)."""
    probe = require_binary("ffprobe", "video.ffprobe")
    out = run_tool([probe, "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
                    "stream=nb_read_packets", "-of", "csv=p=0", str(path)], timeout=120, what="frame count").stdout
    return int(out.decode().strip().split(",")[0]) / fps


def _sound(path: Path) -> np.ndarray:
    ff = require_binary("ffmpeg", "video.ffmpeg")
    raw = run_tool([ff, "-nostdin", "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(RATE), "-f", "f32le",
                    "-"], timeout=120, what="sound for the round trip").stdout
    return np.frombuffer(raw, np.float32)


class FrameCheck(BaseModel):
    at: float
    diff: float  # mean absolute difference, 0–255, outside the masked text areas


class VoiceCheck(BaseModel):
    source: str
    at: float
    ours: float  # where the voice is heard in our render (cross-correlation peak), seconds
    theirs: float
    corr_ours: float  # normalised peak height (1 = the voice alone)
    corr_theirs: float


class RoundTrip(BaseModel):
    fps: float
    duration_ours: float
    duration_theirs: float
    frames: list[FrameCheck] = Field(default_factory=list)
    voices: list[VoiceCheck] = Field(default_factory=list)

    @property
    def duration_frames_off(self) -> float:
        return abs(self.duration_ours - self.duration_theirs) * self.fps

    @property
    def max_frame_diff(self) -> float:
        return max((f.diff for f in self.frames), default=0.0)

    @property
    def max_voice_offset(self) -> float:
        return max((abs(v.ours - v.theirs) for v in self.voices), default=0.0)


def sample_times(edl: EDL, per_segment: int = 2) -> list[float]:
    """Times inside segments a timeline holds as our render shows them: away from cuts and crossfades,
    outside the edit's fades, and not in zoomed segments (no timeline format holds a zoom)."""
    times, t = [], 0.0
    segs = edl.clips
    total = sum(segment_duration(s) for s in segs) - sum(s.transition.duration for s in segs[1:] if s.transition)
    for n, seg in enumerate(segs):
        d = segment_duration(seg)
        start = t - (seg.transition.duration if n and seg.transition else 0.0)
        lead = seg.transition.duration if n and seg.transition else 0.0
        nxt = segs[n + 1] if n + 1 < len(segs) else None
        tail = nxt.transition.duration if nxt is not None and nxt.transition else 0.0
        a, b = start + lead + 0.15, start + d - tail - 0.15
        a, b = max(a, edl.fade_in + 0.1), min(b, total - edl.fade_out - 0.1)
        if b > a and not getattr(seg, "zoom", None):
            times += [round(a + (b - a) * (k + 1) / (per_segment + 1), 3) for k in range(per_segment)]
        t = start + d
    return times


def _mask(edl: EDL, t: float, h: int) -> np.ndarray:
    """Rows that carry burned text at time t (subtitles at the bottom, captions where they are placed)."""
    keep = np.ones((h, ANALYSIS_W), bool)
    if any(s.start - 0.1 <= t <= s.end + 0.1 for s in edl.subtitles):
        keep[int(h * 0.62):] = False
    for ov in edl.overlays:
        if ov.start - 0.1 <= t <= ov.end + 0.1:
            pos = ov.position if isinstance(ov.position, str) else ("top" if ov.position.y < 0.34 else
                                                                     "bottom" if ov.position.y > 0.66 else "center")
            band = {"top": (0, 0.4), "bottom": (0.6, 1.0)}.get(pos.split("-")[0], (0.25, 0.75))
            keep[int(h * band[0]):int(h * band[1])] = False
    return keep


def _peak(signal: np.ndarray, voice: np.ndarray, expect: float, window: float = 0.6) -> tuple[float, float]:
    """Where `voice` starts in `signal` near `expect` seconds (normalised cross-correlation peak)."""
    lo = max(0, int((expect - window) * RATE))
    hi = min(len(signal), int((expect + window) * RATE) + len(voice))
    seg = signal[lo:hi]
    if len(seg) <= len(voice) or not np.any(voice):
        return expect, 0.0
    n = 1 << int(np.ceil(np.log2(len(seg) + len(voice))))
    corr = np.fft.irfft(np.fft.rfft(seg, n) * np.conj(np.fft.rfft(voice, n)), n)[: len(seg) - len(voice) + 1]
    energy = np.sqrt(np.convolve(seg ** 2, np.ones(len(voice)), "valid")[: len(corr)] * float(voice @ voice)) + 1e-9
    norm = corr / energy
    k = int(np.argmax(norm))
    return (lo + k) / RATE, float(norm[k])


def compare(ours: Path, theirs: Path, edl: EDL, fps: float, voice_files: dict[str, Path]) -> RoundTrip:
    """Hold melt's render `theirs` against our render `ours` of the same (checked) EDL."""
    a = media_info(ours)
    h = max(2, round(ANALYSIS_W * (a.height or 9) / (a.width or 16)))
    out = RoundTrip(fps=fps, duration_ours=round(picture_seconds(ours, fps), 4),
                    duration_theirs=round(picture_seconds(theirs, fps), 4))
    for t in sample_times(edl):
        keep = _mask(edl, t, h)
        fa, fb = _gray(ours, t, h), _gray(theirs, t, h)
        out.frames.append(FrameCheck(at=t, diff=round(float(np.abs(fa - fb)[keep].mean()), 2)))
    sa, sb = _sound(ours), _sound(theirs)
    for track in edl.audio:
        if track.role != "voice" or not track.source or track.source not in voice_files:
            continue
        voice = _sound(voice_files[track.source])
        voice = voice[int(track.start * RATE): int(track.end * RATE) if track.end else None][: 3 * RATE]
        (pa, ca), (pb, cb) = _peak(sa, voice, track.at), _peak(sb, voice, track.at)
        out.voices.append(VoiceCheck(source=track.source, at=track.at, ours=round(pa, 4), theirs=round(pb, 4),
                                     corr_ours=round(ca, 3), corr_theirs=round(cb, 3)))
    return out

