"""Subtitle parsing (SRT and ASS/SSA) and the readability rules professional subtitlers use:
≤ 42 characters a line, ≤ 2 lines a cue, ≤ 17 characters a second, ≥ 2 frames between cues,
no overlaps, and every scripted line present.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

from pydantic import BaseModel

from tools.core.settings.sections import QualitySettings
from tools.core.types import ToolError
from tools.quality.codes import Code
from tools.quality.report import Check, ScoreReport, linear

MIN_CUE_S = 0.8  # shorter cues flash by before they can be read


class Cue(BaseModel):
    start: float
    end: float
    lines: list[str]

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def duration(self) -> float:
        return self.end - self.start


_SRT_TIME = re.compile(r"(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})\s*-->\s*(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})")


def _seconds(h: str, m: str, s: str, frac: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def parse_srt(text: str) -> list[Cue]:
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")):
        rows = [r for r in block.strip().split("\n") if r.strip()]
        for k, row in enumerate(rows[:2]):
            m = _SRT_TIME.search(row)
            if m:
                g = m.groups()
                lines = [re.sub(r"<[^>]+>", "", r).strip() for r in rows[k + 1:]]
                cues.append(Cue(start=_seconds(*g[:4]), end=_seconds(*g[4:]), lines=[x for x in lines if x]))
                break
    return cues


def _ass_time(text: str) -> float:
    h, m, s = text.strip().split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse_ass(text: str) -> list[Cue]:
    cues, fields, in_events = [], None, False
    for row in text.replace("\r\n", "\n").lstrip("\ufeff").split("\n"):
        row = row.strip()
        if row.startswith("["):
            in_events = row.lower() == "[events]"
        elif in_events and row.lower().startswith("format:"):
            fields = [f.strip().lower() for f in row.split(":", 1)[1].split(",")]
        elif in_events and fields and row.lower().startswith("dialogue:"):
            values = row.split(":", 1)[1].split(",", len(fields) - 1)
            rec = dict(zip(fields, (v.strip() for v in values)))
            body = re.sub(r"\{[^}]*\}", "", rec.get("text", "")).replace("\\h", " ")
            lines = [x.strip() for x in re.split(r"\\[Nn]", body) if x.strip()]
            cues.append(Cue(start=_ass_time(rec["start"]), end=_ass_time(rec["end"]), lines=lines))
    return cues


def load_subtitles(path: Path) -> list[Cue]:
    if not path.exists():
        raise ToolError(f"Subtitle file not found: {path}")
    raw = path.read_bytes()
    if not raw.strip():
        raise ToolError(f"{path.name} is empty", "write the subtitles again")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # old SRTs are often Windows-1252/latin-1
    is_ass = path.suffix.lower() in (".ass", ".ssa") or "[Events]" in text
    try:
        cues = parse_ass(text) if is_ass else parse_srt(text)
    except (ValueError, KeyError) as exc:
        raise ToolError(f"{path.name} is not valid {'ASS' if is_ass else 'SRT'}: {exc}",
                        "check the timestamps (SRT: 00:00:01,000 --> 00:00:02,500)") from exc
    if not cues:
        raise ToolError(f"{path.name} holds no subtitle cues", "is it an SRT or ASS file?")
    return sorted(cues, key=lambda c: c.start)


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
