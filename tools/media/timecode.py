"""The one way times are written and read back: `HH:MM:SS.mmm` (scenes, ffmpeg), SRT and ASS."""
from __future__ import annotations

import re
from typing import Literal

TimeStyle = Literal["clock", "srt", "ass", "short"]

_TIME = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?\s*$")


def format_timecode(seconds: float, style: TimeStyle = "clock") -> str:
    """`clock`: `00:01:02.500` (the form ffmpeg and PySceneDetect print); `srt`: `00:01:02,500`;
    `ass`: `0:01:02.50` (centiseconds, one-digit hours); `short`: `1:02.5` (minutes and seconds, for people).
    Negative times are written as 0."""
    if style == "short":
        tenths = round(max(seconds, 0.0) * 10)
        return f"{tenths // 600}:{tenths % 600 / 10:04.1f}"
    if style == "ass":
        cs = round(max(seconds, 0.0) * 100)
        h, rem = divmod(cs, 360_000)
        m, rem = divmod(rem, 6000)
        s, cs = divmod(rem, 100)
        return f"{h:d}:{m:02d}:{s:02d}.{cs:02d}"
    ms = round(max(seconds, 0.0) * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{',' if style == 'srt' else '.'}{ms:03d}"


def parse_timecode(text: str) -> float:
    """Seconds from any of the styles above (`H:MM:SS`, `,` or `.` before up to 3 fraction digits)."""
    m = _TIME.match(text)
    if not m:
        raise ValueError(f"not a timecode: {text!r} (expected H:MM:SS,mmm or H:MM:SS.cc)")
    h, mi, s, frac = m.groups()
    return int(h) * 3600 + int(mi) * 60 + int(s) + int((frac or "0").ljust(3, "0")) / 1000
