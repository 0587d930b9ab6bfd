"""Subtitles: one `Cue`, the timing rules, writing SRT and ASS, reading them back.

Rules (broadcast/streaming style guides; the limits are `quality.max_chars_per_line`,
`max_lines_per_cue`, `max_cps` and `min_gap_frames`, which the quality gate checks too): at most
42 characters a line and 2 lines a cue (longer text is split into several cues, time shared by
length); at most 17 characters a second and at least 5/6 s on screen (extended into free time when
possible); at least 2 frames between cues; cues that start or end within half a second of a shot
change are snapped to it instead of straddling it. The `make_subtitles` tool is in
`tools/video/subtitle_files.py`; the scorer in `tools/quality/subtitles.py`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tools.core.settings.sections import QualitySettings
from tools.core.types import ToolError
from tools.media.safe_text import ass_colour, clean_text, font_name
from tools.media.timecode import format_timecode, parse_timecode

RULES = QualitySettings()  # the limits' defaults, for callers without settings at hand
MAX_LINE = RULES.max_chars_per_line
MAX_LINES = RULES.max_lines_per_cue
MIN_DURATION = 5 / 6
MAX_DURATION = 7.0
CUT_SNAP = 0.5
LEAD_IN = 0.3  # at most this early may a cue appear before its line is said, to be readable


@dataclass
class Cue:
    start: float
    end: float
    lines: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(len(line) for line in self.lines)

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    @property
    def duration(self) -> float:
        return self.end - self.start


def wrap(text: str, width: int = MAX_LINE) -> list[str]:
    """Balanced wrap into lines of ≤ width chars (two lines split near the middle)."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > width:  # a single over-long token is hard-split
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) == 2:  # rebalance: choose the split that makes both lines as even as possible
        best = None
        for i in range(1, len(words)):
            a, b = " ".join(words[:i]), " ".join(words[i:])
            if len(a) <= width and len(b) <= width:
                score = abs(len(a) - len(b))
                if best is None or score < best[0]:
                    best = (score, [a, b])
        if best:
            lines = best[1]
    return lines


def _chunks(text: str, width: int = MAX_LINE, max_lines: int = MAX_LINES) -> list[str]:
    """Split text into pieces that each fit in one cue (≤ 2 lines of 42), preferring sentence breaks."""
    text = " ".join(text.split())
    if len(wrap(text, width)) <= max_lines:
        return [text]
    sentences = [s for s in re.split(r"(?<=[.!?…;:,])\s+", text) if s]
    out: list[str] = []
    current = ""
    for sentence in sentences:
        candidate = f"{current} {sentence}".strip()
        if len(wrap(candidate, width)) <= max_lines:
            current = candidate
            continue
        if current:
            out.append(current)
        if len(wrap(sentence, width)) <= max_lines:
            current = sentence
        else:  # one long sentence: fill cues word by word
            current = ""
            for word in sentence.split():
                candidate = f"{current} {word}".strip()
                if len(wrap(candidate, width)) <= max_lines:
                    current = candidate
                else:
                    out.append(current)
                    current = word
    if current:
        out.append(current)
    return out


def build_cues(lines: list[tuple[str, float, float]], *, fps: float = 24.0, cuts: list[float] | None = None,
               timeline_end: float | None = None, rules: QualitySettings = RULES) -> list[Cue]:
    """Timed `(text, start, end)` lines → cues that follow the rules above (input order by start)."""
    gap = rules.min_gap_frames / fps
    max_cps = rules.max_cps
    cuts = sorted(cuts or [])
    cues: list[Cue] = []
    for text, start, end in sorted(lines, key=lambda x: x[1]):
        text = clean_text(text)
        if not text:
            continue
        pieces = _chunks(text, rules.max_chars_per_line, rules.max_lines_per_cue)
        total = sum(len(p) for p in pieces) or 1
        t = start
        for piece in pieces:
            share = (end - start) * len(piece) / total
            cues.append(Cue(t, t + share, wrap(piece, rules.max_chars_per_line)))
            t += share
    limit = timeline_end if timeline_end is not None else float("inf")
    for i, cue in enumerate(cues):
        nxt = cues[i + 1].start if i + 1 < len(cues) else limit + gap
        for cut in cuts:  # snap to shot changes rather than straddle them
            if cut - CUT_SNAP <= cue.start < cut and cue.end - cut >= MIN_DURATION:
                cue.start = cut
            if cut < cue.end <= cut + CUT_SNAP and cut - gap - cue.start >= MIN_DURATION:
                cue.end = cut - gap
        need = max(MIN_DURATION, cue.chars / max_cps)
        if cue.end - cue.start < need:
            cue.end = min(cue.start + need, nxt - gap)
        cue.end = min(cue.end, cue.start + MAX_DURATION, nxt - gap, limit)
        if cue.end - cue.start < need:  # the next cue blocks it: appear a little before the voice instead
            before = cues[i - 1].end + gap if i else 0.0
            cue.start = max(before, cue.start - LEAD_IN, cue.end - need, 0.0)
        if cue.end - cue.start <= 0:
            cue.end = cue.start + gap
        cps = cue.chars / (cue.end - cue.start)
        if cps > max_cps + 0.05:
            cue.warnings.append(f"{cps:.1f} characters a second (> {max_cps:g}): the line is on screen too briefly")
    return cues


def to_srt(cues: list[Cue]) -> str:
    blocks = [f"{i}\n{format_timecode(c.start, 'srt')} --> {format_timecode(c.end, 'srt')}\n" + "\n".join(c.lines)
              for i, c in enumerate(cues, 1)]
    return "\n\n".join(blocks) + "\n"


def _ass_text(line: str) -> str:
    # Braces open ASS override blocks and backslashes start tags: make them literal.
    return line.replace("\\", "\u29f5").replace("{", "\\{").replace("}", "\\}")


def to_ass(cues: list[Cue], *, width: int, height: int, font: str = "DejaVu Sans", size: float = 0.06,
           color: str = "&H00FFFFFF", outline_color: str = "&H00000000", outline: float = 2.0,
           margin: float = 0.06, bold: bool = False) -> str:
    # Style fields are checked here too: a value reaching this line unchecked could add ASS lines.
    font, color, outline_color = font_name(font), ass_colour(color), ass_colour(outline_color)
    if not (0 <= outline <= 20 and 0 < size <= 0.5 and 0 <= margin <= 0.5):
        raise ValueError(f"subtitle style out of range (size {size}, outline {outline}, margin {margin})")
    header = (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 2\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {width}\nPlayResY: {height}\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Default,{font},{max(8, round(size * height))},{color},&H000000FF,{outline_color},&H80000000,"
        f"{-1 if bold else 0},0,0,0,100,100,0,0,1,{outline:g},0,2,{round(0.05 * width)},{round(0.05 * width)},"
        f"{round(margin * height)},1\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    events = [f"Dialogue: 0,{format_timecode(c.start, 'ass')},{format_timecode(c.end, 'ass')},Default,,0,0,0,,"
              + "\\N".join(_ass_text(line) for line in c.lines) for c in cues]
    return header + "\n".join(events) + "\n"


_SRT_RANGE = re.compile(r"(\d+:\d{1,2}:\d{1,2}(?:[,.]\d{1,3})?)\s*-->\s*(\d+:\d{1,2}:\d{1,2}(?:[,.]\d{1,3})?)")


def parse_srt(text: str) -> list[Cue]:
    cues = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")):
        rows = [r for r in block.strip().split("\n") if r.strip()]
        for k, row in enumerate(rows[:2]):
            m = _SRT_RANGE.search(row)
            if m:
                lines = [re.sub(r"<[^>]+>", "", r).strip() for r in rows[k + 1:]]
                cues.append(Cue(parse_timecode(m.group(1)), parse_timecode(m.group(2)), [x for x in lines if x]))
                break
    return cues


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
            cues.append(Cue(parse_timecode(rec["start"]), parse_timecode(rec["end"]), lines))
    return cues


def load_subtitles(path: Path) -> list[Cue]:
    """The cues of an SRT or ASS/SSA file, by start time; a clear ToolError for anything else."""
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
