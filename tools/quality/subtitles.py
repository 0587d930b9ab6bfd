"""The subtitle scorer: a written SRT/ASS file against the readability rules professional subtitlers
use (the limits of `quality` settings: characters a line and a second, lines a cue, frames between
cues), no overlaps, and every scripted line present. Reading the files is `tools/media/subtitles.py`.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

from tools.core.findings import Code
from tools.core.settings.sections import QualitySettings
from tools.media.subtitles import Cue, load_subtitles
from tools.quality.report import Check, ScoreReport, linear

MIN_CUE_S = 0.8  # shorter cues flash by before they can be read


def _normal(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower()).strip()


def line_covered(line: str, cues: list[Cue]) -> bool:
    """A scripted line is covered if its words appear in one cue or across neighbouring cues."""
    target = _normal(line)
    if not target:
        return True
    texts = [_normal(c.text) for c in cues]
    for size in (1, 2, 3):  # a long line may be split over up to three cues
        for k in range(len(texts) - size + 1):
            joined = " ".join(texts[k:k + size])
            if target in joined or difflib.SequenceMatcher(None, target, joined).ratio() >= 0.85:
                return True
    return False


def score_subtitles(path: Path, q: QualitySettings, fps: float = 24.0, lines: list[str] | None = None,
                    video_duration: float | None = None) -> ScoreReport:
    cues = load_subtitles(path)
    check = Check("subtitles", q.scorer_pass)
    n = len(cues)
    long_lines = [c for c in cues if any(len(x) > q.max_chars_per_line for x in c.lines)]
    too_many = [c for c in cues if len(c.lines) > q.max_lines_per_cue]
    fast = [c for c in cues if c.duration <= 0 or len(c.text.replace(" ", "")) / c.duration > q.max_cps]
    short = [c for c in cues if 0 < c.duration < MIN_CUE_S]
    min_gap = q.min_gap_frames / fps
    tight = [b for a, b in zip(cues, cues[1:]) if b.start - a.end < min_gap - 1e-3]
    overlaps = [b for a, b in zip(cues, cues[1:]) if b.start < a.end - 1e-3]
    empty = [c for c in cues if not c.lines]
    late = [c for c in cues if video_duration and c.end > video_duration + 0.5]
    cps = [round(len(c.text.replace(" ", "")) / c.duration, 1) for c in cues if c.duration > 0]
    check.metrics.update(cues=n, max_cps=max(cps, default=0.0), max_line_chars=max(
        (len(x) for c in cues for x in c.lines), default=0))

    def at(bad: list[Cue]) -> str:
        return ", ".join(f"{c.start:.1f}s" for c in bad[:4])

    check.add(1 - len(long_lines) / n, 1.0, f"{len(long_lines)} cues have lines over {q.max_chars_per_line} "
              f"characters (at {at(long_lines)})", Code.subtitle_too_long)
    check.add(1 - len(too_many) / n, 0.5, f"{len(too_many)} cues have more than {q.max_lines_per_cue} lines "
              f"(at {at(too_many)})", Code.subtitle_too_many_lines)
    unreadable = max(cps, default=0.0) > 1.5 * q.max_cps  # far past the limit nobody can read it: fail
    check.add(linear(len(fast) / n, 0.0, 0.5), 1.5, f"{len(fast)} cues are too fast to read (> {q.max_cps:g} "
              f"characters/s, at {at(fast)})", Code.subtitle_too_fast, hard=unreadable, fail_below=1.0)
    check.add(1 - len(short) / n, 0.5, f"{len(short)} cues are shorter than {MIN_CUE_S}s (at {at(short)})",
              Code.subtitle_too_short)
    check.add(1 - len(tight) / max(1, n - 1), 0.5, f"{len(tight)} cues follow the previous one by less than "
              f"{q.min_gap_frames} frames (at {at(tight)})", Code.subtitle_gap)
    check.add(1 - len(overlaps) / max(1, n - 1), 1.0, f"{len(overlaps)} cues overlap the previous one "
              f"(at {at(overlaps)})", Code.subtitle_overlap, hard=True)
    check.add(1 - len(empty) / n, 0.5, f"{len(empty)} cues are empty (at {at(empty)})", Code.subtitle_empty)
    if video_duration:
        check.add(1 - len(late) / n, 0.5, f"{len(late)} cues run past the end of the video", Code.subtitle_past_end)
    if lines:
        missing = [x for x in lines if not line_covered(x, cues)]
        check.metrics["lines_covered"] = len(lines) - len(missing)
        names = "; ".join(repr(x[:30]) for x in missing[:3])
        check.add(1 - len(missing) / len(lines), 2.0, f"{len(missing)}/{len(lines)} scripted lines have no "
                  f"subtitle ({names})", Code.subtitle_line_missing, hard=True, fail_below=1.0)
    return check.report()
