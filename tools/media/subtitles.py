"""Subtitle cues from timed lines, following common timing rules, written as SRT and ASS.

Rules (broadcast/streaming style guides): at most 42 characters a line and 2 lines a cue (longer
text is split into several cues, time shared by length); at most 17 characters a second and at
least 5/6 s on screen (extended into free time when possible); at least 2 frames between cues;
cues that start or end within half a second of a shot change are snapped to it instead of
straddling it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field

from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.types import Artifact, ToolResult
from tools.video.edl import SubtitleLine
from tools.video.safe_text import ass_colour, clean_text, font_name

MAX_LINE = 42
MAX_LINES = 2
MAX_CPS = 17.0
MIN_DURATION = 5 / 6
MAX_DURATION = 7.0
CUT_SNAP = 0.5


@dataclass
class Cue:
    start: float
    end: float
    lines: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(len(line) for line in self.lines)


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


def _chunks(text: str) -> list[str]:
    """Split text into pieces that each fit in one cue (≤ 2 lines of 42), preferring sentence breaks."""
    text = " ".join(text.split())
    if len(wrap(text)) <= MAX_LINES:
        return [text]
    sentences = [s for s in re.split(r"(?<=[.!?…;:,])\s+", text) if s]
    out: list[str] = []
    current = ""
    for sentence in sentences:
        candidate = f"{current} {sentence}".strip()
        if len(wrap(candidate)) <= MAX_LINES:
            current = candidate
            continue
        if current:
            out.append(current)
        if len(wrap(sentence)) <= MAX_LINES:
            current = sentence
        else:  # one long sentence: fill cues word by word
            current = ""
            for word in sentence.split():
                candidate = f"{current} {word}".strip()
                if len(wrap(candidate)) <= MAX_LINES:
                    current = candidate
                else:
                    out.append(current)
                    current = word
    if current:
        out.append(current)
    return out


def build_cues(lines: list[tuple[str, float, float]], *, fps: float = 24.0, cuts: list[float] | None = None,
               timeline_end: float | None = None) -> list[Cue]:
    """Timed `(text, start, end)` lines → cues that follow the rules above (input order by start)."""
    gap = 2.0 / fps
    cuts = sorted(cuts or [])
    cues: list[Cue] = []
    for text, start, end in sorted(lines, key=lambda x: x[1]):
        text = clean_text(text)
        if not text:
            continue
        pieces = _chunks(text)
        total = sum(len(p) for p in pieces) or 1
        t = start
        for piece in pieces:
            share = (end - start) * len(piece) / total
            cues.append(Cue(t, t + share, wrap(piece)))
            t += share
    limit = timeline_end if timeline_end is not None else float("inf")
    for i, cue in enumerate(cues):
        nxt = cues[i + 1].start if i + 1 < len(cues) else limit + gap
        for cut in cuts:  # snap to shot changes rather than straddle them
            if cut - CUT_SNAP <= cue.start < cut and cue.end - cut >= MIN_DURATION:
                cue.start = cut
            if cut < cue.end <= cut + CUT_SNAP and cut - gap - cue.start >= MIN_DURATION:
                cue.end = cut - gap
        need = max(MIN_DURATION, cue.chars / MAX_CPS)
        if cue.end - cue.start < need:
            cue.end = min(cue.start + need, nxt - gap)
        cue.end = min(cue.end, cue.start + MAX_DURATION, nxt - gap, limit)
        if cue.end - cue.start <= 0:
            cue.end = cue.start + gap
        cps = cue.chars / (cue.end - cue.start)
        if cps > MAX_CPS + 0.05:
            cue.warnings.append(f"{cps:.1f} characters a second (> {MAX_CPS:g}): the line is on screen too briefly")
    return cues


def _srt_time(t: float) -> str:
    ms = int(round(max(t, 0.0) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def _ass_time(t: float) -> str:
    cs = int(round(max(t, 0.0) * 100))
    h, rem = divmod(cs, 360_000)
    m, rem = divmod(rem, 6000)
    s, cs = divmod(rem, 100)
    return f"{h:d}:{m:02d}:{s:02d}.{cs:02d}"


def to_srt(cues: list[Cue]) -> str:
    blocks = [f"{i}\n{_srt_time(c.start)} --> {_srt_time(c.end)}\n" + "\n".join(c.lines)
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
    events = [f"Dialogue: 0,{_ass_time(c.start)},{_ass_time(c.end)},Default,,0,0,0,,"
              + "\\N".join(_ass_text(line) for line in c.lines) for c in cues]
    return header + "\n".join(events) + "\n"


class SubtitleResult(ToolResult):
    srt: str
    ass: str
    cues: int
    warnings: list[str] = []


@tool(family="video")
def make_subtitles(ctx: ToolContext, lines: list[SubtitleLine], name: str = "subtitles",
                   fps: Annotated[float, Field(gt=0.0, le=240.0)] = 24.0, cuts: list[float] | None = None,
                   width: Annotated[int, Field(ge=16, le=7680)] = 1280,
                   height: Annotated[int, Field(ge=16, le=4320)] = 720) -> SubtitleResult:
    """Write SRT and ASS subtitle files from timed lines, applying timing rules (≤42 characters a line,
    ≤2 lines, ≤17 characters a second, ≥2 frames between cues, no straddling of shot changes).

    Args:
        lines: The timed lines (text, start, end in seconds).
        name: File name stem for the outputs.
        fps: Frame rate of the video (for the 2-frame gap).
        cuts: Shot-change times in seconds (e.g. from detect_scenes) to snap cues to.
        width: Video width (ASS play resolution).
        height: Video height.
    """
    cues = build_cues([(s.text, s.start, s.end) for s in lines], fps=fps, cuts=list(cuts or []))
    srt = ctx.workspace.unique_output(name, ".srt", "subtitles")
    srt.write_text(to_srt(cues), encoding="utf-8")
    ass = srt.with_suffix(".ass")
    ass.write_text(to_ass(cues, width=width, height=height), encoding="utf-8")
    warnings = [f"{' '.join(c.lines)[:30]!r}: {w}" for c in cues for w in c.warnings]
    paths = [ctx.workspace.relative(srt), ctx.workspace.relative(ass)]
    return SubtitleResult(srt=paths[0], ass=paths[1], cues=len(cues), warnings=warnings,
                          artifacts=[Artifact(path=p, kind="subtitles") for p in paths])
