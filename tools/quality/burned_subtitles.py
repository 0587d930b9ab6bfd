"""Subtitles in the picture: is each cue really drawn on the frames, where a viewer reads it?

The `.srt` a render writes says nothing about the pixels (a font that failed to load, a filter left
out, a style with no alpha all leave a clean picture). At each cue, the output frame is compared with
the *source* frame it was cut from (the render's timeline maps output time to film time): burned
text changes the subtitle band strongly while the rest of the frame stays the same. When tesseract
is installed (Debian `tesseract-ocr`) the band is also read back and compared with the cue's text;
cues whose footage is zoomed or held (no clean source frame) are judged by the reading alone.
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from pydantic import BaseModel

from tools.core.child_processes import ChildFailed, run_child
from tools.core.findings import Code
from tools.core.settings import Settings
from tools.core.types import ToolError
from tools.media.ffmpeg import require_binary
from tools.media.subtitles import Cue
from tools.quality.report import Check, ScoreReport

WIDTH = 320  # comparison width: text strokes survive, the comparison stays cheap
OCR_HEIGHT = 360  # frames are read at least this tall (tesseract wants glyphs of ~20 px or more)
STRONG = 40  # grey levels: a change this large is drawing, not compression noise
COMPARABLE = ("clip", "slow")  # spans that show source frames as they are (no zoom, no hold)
MAX_CUES = 16  # more cues are sampled evenly: the verdict does not need every one
ALIGN_FRAMES = 2  # source frames tried either side of the mapped time


class TimeSpan(BaseModel):
    """A piece of the output timeline and the source range it shows (assemble_parody's `timeline`)."""

    kind: str
    out_start: float
    out_end: float
    src_start: float
    src_end: float
    speed: float = 1.0


class Geometry(BaseModel):
    width: int
    height: int
    fps: float


def geometry(path: Path, settings: Settings) -> Geometry:
    from tools.media.probe import media_info

    info = media_info(path, settings.video.ffprobe)
    if not info.has_video or not info.width or not info.height:
        raise ToolError(f"{path.name} has no video stream", "give a video file")
    return Geometry(width=int(info.width), height=int(info.height), fps=float(info.fps or settings.video.fps))


def grab_frames(path: Path, times: Sequence[float], ffmpeg: str, geo: Geometry, width: int) -> list[np.ndarray | None]:
    """Grey frames at `times`, `width` wide, from one sequential decode of the stretch they span (one seek
    to the first; seeking to each would decode from its keyframe again); None past the end."""
    if not times:
        return []
    height = max(2, round(geo.height * width / geo.width / 2) * 2)
    first = max(0.0, min(times) - 0.05)
    frame_of = [max(0, round((t - first) * geo.fps)) for t in times]
    wanted = sorted(set(frame_of))
    expr = "+".join(f"eq(n\\,{n})" for n in wanted)
    args = [ffmpeg, "-nostdin", "-v", "error", "-ss", f"{first:.3f}", "-i", f"file:{path}",
            "-t", f"{max(times) - first + 2.0 / geo.fps:.3f}", "-vf",
            f"select='{expr}',scale={width}:{height}:flags=area,format=gray", "-fps_mode", "passthrough",
            "-f", "rawvideo", "-"]
    try:
        raw = run_child(args, what="ffmpeg (subtitle frames)", timeout_s=300, check=False).stdout
    except (ChildFailed, OSError):  # out of time or memory: these frames count as not seen
        return [None] * len(times)
    size = width * height
    got = {n: np.frombuffer(raw[k * size:(k + 1) * size], np.uint8).reshape(height, width).astype(np.float32)
           for k, n in enumerate(wanted) if len(raw) >= (k + 1) * size}
    return [got.get(n) for n in frame_of]


def source_time(t: float, spans: Sequence[TimeSpan], margin: float = 0.12) -> float | None:
    """Film time shown at output time `t`, when `t` lies well inside a span that shows source frames as is."""
    for span in spans:
        if span.kind in COMPARABLE and span.out_start + margin <= t <= span.out_end - margin:
            return span.src_start + (t - span.out_start) * span.speed
    return None


def band_change(out: np.ndarray, src: np.ndarray, band: float) -> dict[str, float]:
    """Share of strongly changed pixels in the subtitle band and in the picture above it (at WIDTH)."""
    out, src = (cv2.resize(x, (WIDTH, round(x.shape[0] * WIDTH / x.shape[1])), interpolation=cv2.INTER_AREA)
                for x in (out, src))
    h = min(out.shape[0], src.shape[0])
    diff = np.abs(out[:h] - src[:h])
    cut = int(h * (1 - band))
    top = int(h * 0.2)  # the very top holds freeze-frame captions, never subtitles
    inside = float(np.mean(diff[cut:] > STRONG))
    above = float(np.mean(diff[top:cut] > STRONG)) if cut > top else 0.0
    return {"band": round(inside, 4), "above": round(above, 4)}


INK_PER_LETTER = 0.0006  # share of the band (at WIDTH) one letter's strokes change, at the least
INK_FLOOR = (0.003, 0.01)  # the band must change at least this much (short cue, long cue)


def drawn(change: dict[str, float], text: str = "") -> bool:
    """The band changed strongly, and far more than the picture above it (which a re-encode changes as much).
    A short cue draws fewer strokes, so the least change asked of it follows its letters."""
    letters = sum(ch.isalnum() for ch in text) or 20
    floor = min(max(INK_PER_LETTER * letters, INK_FLOOR[0]), INK_FLOOR[1])
    return change["band"] >= floor and change["band"] > 4 * change["above"] + 0.004


def ocr_available(settings: Settings) -> bool:
    return settings.quality.ocr == "auto" and shutil.which("tesseract") is not None


def read_bands(frames: Sequence[np.ndarray], band: float) -> list[str]:
    """Tesseract once on the subtitle bands stacked into one page; words go back to their band by height."""
    crops = []
    for frame in frames:
        crop = frame[int(frame.shape[0] * (1 - band)):].astype(np.uint8)
        if frame.shape[0] < OCR_HEIGHT:
            scale = OCR_HEIGHT / frame.shape[0]
            crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        _, ink = cv2.threshold(crop, 200, 255, cv2.THRESH_BINARY_INV)  # white text, dark outline → black on white
        crops.append(ink)
    if not crops:
        return []
    width = max(c.shape[1] for c in crops)
    gap = np.full((24, width), 255, np.uint8)
    rows, bounds, y = [], [], 0
    for crop in crops:
        padded = np.full((crop.shape[0], width), 255, np.uint8)
        padded[:, :crop.shape[1]] = crop
        rows += [padded, gap]
        bounds.append((y, y + crop.shape[0]))
        y += crop.shape[0] + gap.shape[0]
    ok, png = cv2.imencode(".png", np.vstack(rows))
    if not ok:
        return [""] * len(crops)
    try:  # one thread: on small pages OpenMP's spinning costs more than it saves
        proc = run_child(["tesseract", "stdin", "stdout", "--psm", "6", "-l", "eng", "tsv"], what="tesseract",
                         input=png.tobytes(), timeout_s=60, check=False, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    except (ChildFailed, OSError):
        return [""] * len(crops)
    words: list[list[str]] = [[] for _ in crops]
    for row in proc.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or not cols[11].strip():
            continue
        mid = int(cols[7]) + int(cols[9]) / 2
        k = next((i for i, (a, b) in enumerate(bounds) if a <= mid < b + gap.shape[0]), None)
        if k is not None:
            words[k].append(cols[11].strip())
    return [" ".join(w) for w in words]


def text_similarity(expected: str, read: str) -> float:
    """Letter similarity of the cue's text with the best-matching stretch of what was read."""
    a, b = (re.sub(r"[^a-z0-9]+", "", x.lower()) for x in (expected, read))
    if not a or not b:
        return 0.0
    if len(b) <= len(a):
        return difflib.SequenceMatcher(None, a, b).ratio()
    step = max(1, len(a) // 8)  # the band may also hold a neighbouring cue's tail
    return max(difflib.SequenceMatcher(None, a, b[i:i + len(a)]).ratio() for i in range(0, len(b) - len(a) + 1, step))


def _moment(cue: Cue, spans: Sequence[TimeSpan]) -> tuple[float, float | None]:
    """A time inside the cue (its middle, else a third in or out) and the source time it shows, if any."""
    for frac in (0.5, 0.3, 0.7):
        t = cue.start + frac * cue.duration
        src = source_time(t, spans)
        if src is not None:
            return t, src
    return cue.start + 0.5 * cue.duration, None


def score_burned_subtitles(video: Path, film: Path | None, cues: list[Cue], spans: Sequence[TimeSpan],
                           settings: Settings) -> ScoreReport:
    if not cues:
        return ScoreReport.skip("burned_subtitles", "no subtitle cues to look for")
    if not video.is_file():
        raise ToolError(f"File not found: {video}")
    q = settings.quality
    ffmpeg = require_binary(settings.video.ffmpeg, "video.ffmpeg")
    use_ocr = ocr_available(settings)
    picked = [cues[round(i)] for i in np.linspace(0, len(cues) - 1, min(len(cues), MAX_CUES))]
    moments = [_moment(c, spans if film is not None else []) for c in picked]
    out_geo = geometry(video, settings)
    width = max(WIDTH, out_geo.width) if use_ocr else WIDTH  # OCR reads the full picture
    outs = grab_frames(video, [t for t, _ in moments], ffmpeg, out_geo, width)
    if all(o is None for o in outs):
        raise ToolError(f"cannot read frames of {video.name}", "check that the video has a readable picture")
    with_src = [k for k, (_, src) in enumerate(moments) if src is not None and film is not None]
    srcs: dict[int, list[np.ndarray]] = {}
    if with_src and film is not None:
        film_geo = geometry(film, settings)
        # A slowed or re-timed span maps output time to film time to within a frame or two: the source frames
        # around the mapped time are all candidates, and the one that best matches the picture above the band
        # is the frame the output shows (a neighbour frame of a moving scene differs everywhere).
        steps = [j / film_geo.fps for j in range(-ALIGN_FRAMES, ALIGN_FRAMES + 1)]
        wanted = [(k, max(0.0, moments[k][1] + d)) for k in with_src for d in steps]
        frames = grab_frames(film, [t for _, t in wanted], ffmpeg, film_geo, width)
        for (k, _), frame in zip(wanted, frames):
            if frame is not None:
                srcs.setdefault(k, []).append(frame)
    reads = read_bands([o for o in outs if o is not None], q.subtitle_band) if use_ocr else []
    read_of = dict(zip([k for k, o in enumerate(outs) if o is not None], reads))
    check = Check("burned_subtitles", q.scorer_pass)
    rows = []
    for k, cue in enumerate(picked):
        t = moments[k][0]
        row: dict = {"cue": cues.index(cue), "at": round(t, 2), "text": cue.text[:60]}
        rows.append(row)
        if outs[k] is None:
            row["verdict"] = "no frame"
            continue
        if srcs.get(k):
            changes = [band_change(outs[k], src, q.subtitle_band) for src in srcs[k]]
            row["change"] = min(changes, key=lambda c: (c["above"], -c["band"]))
            row["drawn"] = drawn(row["change"], cue.text)
        if k in read_of:
            row["read"] = read_of[k][:80]
            row["similarity"] = round(text_similarity(cue.text, read_of[k]), 3)
        read_ok = row.get("similarity", 0.0) >= 0.5
        readable = out_geo.height >= OCR_HEIGHT  # smaller pictures: a failed reading proves nothing
        if "drawn" in row:
            seen = row["drawn"] or read_ok
        elif "similarity" in row and (read_ok or readable):
            seen = read_ok
        else:
            row["verdict"] = ("not checked: no clean source frame and " +
                              ("no OCR" if "similarity" not in row else "too small a picture to read back"))
            continue
        row["verdict"] = "seen" if seen else "missing"
        check.add(1.0 if seen else 0.0, 1.0, None if seen else
                  f"subtitle {row['cue'] + 1} ({cue.text[:40]!r} at {t:.1f}s) is not in the picture",
                  Code.subtitles_not_in_picture, hard=True, cue=row["cue"], at=row["at"])
        if seen and "similarity" in row and not read_ok and readable:
            check.add(0.6, 0.5, f"subtitle {row['cue'] + 1} is drawn but does not read back as its text "
                      f"(read {row.get('read', '')[:40]!r})", Code.subtitle_text_unreadable, cue=row["cue"], at=row["at"])
    checked = [r for r in rows if r.get("verdict") in ("seen", "missing")]
    check.metrics.update(cues=len(cues), checked=len(checked), seen=sum(r["verdict"] == "seen" for r in checked),
                         ocr="tesseract" if use_ocr else "off (tesseract not installed or quality.ocr=off)",
                         frames=rows)
    if not checked:
        return ScoreReport.skip("burned_subtitles", "no cue could be checked (no clean source frame, no OCR)",
                                **check.metrics)
    return check.report()
