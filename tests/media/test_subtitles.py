"""One subtitles module: what it writes it reads back, by the limits of the quality settings."""
from __future__ import annotations

import pytest

from tools.core.settings.sections import QualitySettings
from tools.media.subtitles import build_cues, parse_ass, parse_srt, to_ass, to_srt
from tools.media.timecode import format_timecode, parse_timecode

LINES = [("The lighthouse keeper counts the waves before the storm comes in.", 0.5, 4.0),
         ("Nobody listens to him.", 4.3, 5.6)]


@pytest.mark.parametrize("seconds", [0.0, 0.04, 1.5, 59.999, 61.25, 3600 + 62.5])
@pytest.mark.parametrize("style", ["clock", "srt", "ass"])
def test_every_time_style_reads_back(seconds, style):
    step = 0.01 if style == "ass" else 0.001
    assert parse_timecode(format_timecode(seconds, style)) == pytest.approx(seconds, abs=step / 2 + 1e-9)


def test_time_styles_and_bad_times():
    assert format_timecode(62.5) == "00:01:02.500"
    assert format_timecode(62.5, "srt") == "00:01:02,500"
    assert format_timecode(3662.5, "ass") == "1:01:02.50"
    assert format_timecode(-3) == "00:00:00.000"
    with pytest.raises(ValueError, match="not a timecode"):
        parse_timecode("1:2")


def test_srt_and_ass_round_trip_the_cues():
    cues = build_cues(LINES, fps=25.0)
    for back in (parse_srt(to_srt(cues)), parse_ass(to_ass(cues, width=640, height=360))):
        assert [c.lines for c in back] == [c.lines for c in cues]
        assert [round(c.start, 2) for c in back] == [round(c.start, 2) for c in cues]
        assert [round(c.end, 2) for c in back] == [round(c.end, 2) for c in cues]


def test_the_limits_come_from_the_quality_settings():
    default = build_cues(LINES)
    narrow = build_cues(LINES, rules=QualitySettings(max_chars_per_line=20, max_lines_per_cue=1, max_cps=30.0,
                                                      min_gap_frames=12))
    assert max(len(x) for c in default for x in c.lines) > 20
    assert all(len(c.lines) == 1 and len(c.lines[0]) <= 20 for c in narrow) and len(narrow) > len(default)
    gaps = [b.start - a.end for a, b in zip(narrow, narrow[1:])]
    assert min(gaps) >= 12 / 24.0 - 1e-6  # twelve frames at 24 fps between cues


def test_a_cue_the_next_one_blocks_appears_a_little_earlier_to_stay_readable():
    from tools.media.subtitles import LEAD_IN, build_cues

    text = "Thirty-one characters, quickly."  # needs 31 / 17 = 1.8 s on screen
    cues = build_cues([("First line.", 0.0, 2.0), (text, 4.0, 5.3), ("Next one.", 5.6, 7.0)])
    blocked = cues[1]
    assert blocked.start == pytest.approx(4.0 - LEAD_IN, abs=0.01)  # started early, not left too fast
    assert blocked.start >= cues[0].end and blocked.end <= cues[2].start
    assert len(text) / (blocked.end - blocked.start) < 31 / 1.3  # slower than without the lead-in
