"""The EDL model: pleasant from JSON, errors that say what is wrong."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from tools.media.subtitles import build_cues, to_ass, to_srt, wrap
from tools.video.edl import EDL, AudioTrack, Clip, FreezeFrame, TitleCard


def test_json_without_kinds_is_understood() -> None:
    edl = EDL.model_validate_json('{"clips": [{"source": "a.mp4", "start": 1, "end": 2}, {"text": "Later"},'
                                  ' {"source": "a.mp4", "at": 3, "duration": 1}], "audio": [{"effect": "boing"}]}')
    assert [type(c) for c in edl.clips] == [Clip, TitleCard, FreezeFrame]
    assert edl.audio[0].effect == "boing"


@pytest.mark.parametrize("data, expect", [
    ({"clips": [{"source": "a.mp4", "start": 2, "end": 2}]}, "zero-length"),
    ({"clips": []}, "at least 1"),
    ({"clips": [{"source": "a.mp4", "speed": 9}]}, "less than or equal to 4"),
    ({"clips": [{"source": "a.mp4"}], "audio": [{"effect": "fart"}]}, "unknown sound effect"),
    ({"clips": [{"source": "a.mp4"}], "audio": [{"source": "v.wav", "effect": "boing"}]}, "exactly one"),
    ({"clips": [{"source": "a.mp4"}], "width": 321}, "even"),
    ({"clips": [{"source": "a.mp4"}], "overlays": [{"text": "x", "start": 3, "end": 1}]}, "after start"),
])
def test_validation_messages_say_what_is_wrong(data, expect: str) -> None:
    with pytest.raises(ValidationError) as exc:
        EDL.model_validate(data)
    assert expect in str(exc.value)


def test_wrap_balances_two_lines_of_at_most_42() -> None:
    lines = wrap("Silenzio, Bruno! We are going to Vespa land, right now, tonight.")
    assert len(lines) == 2 and all(len(line) <= 42 for line in lines)
    assert abs(len(lines[0]) - len(lines[1])) <= 12


def test_cue_rules_split_extend_gap_and_cut() -> None:
    long = "word " * 40  # 200 characters → several cues
    cues = build_cues([(long, 0.0, 12.0), ("Short.", 12.01, 12.2), ("Across a cut", 20.0, 21.3)],
                      fps=25, cuts=[21.0], timeline_end=30)
    assert len(cues) >= 4
    assert all(len(c.lines) <= 2 and all(len(line) <= 42 for line in c.lines) for c in cues)
    for a, b in zip(cues, cues[1:]):
        assert b.start - a.end >= 2 / 25 - 1e-9  # ≥ 2 frames apart
    short = next(c for c in cues if c.lines == ["Short."])
    assert short.end - short.start >= 5 / 6 - 1e-9  # extended to the minimum duration
    across = cues[-1]
    assert across.end <= 21.0  # snapped before the cut instead of straddling it
    srt, ass = to_srt(cues), to_ass(cues, width=320, height=180)
    assert "00:00:12,010 -->" in srt and "Dialogue: 0,0:00:20.00," in ass and "DejaVu Sans" in ass


def test_ass_escapes_override_braces() -> None:
    ass = to_ass(build_cues([("{\\b1}not bold {or this}", 0, 2)]), width=320, height=180)
    # override blocks are removed from screen text; other braces stay, escaped
    assert "{\\b1}" not in ass and "not bold \\{or this\\}" in ass


def test_audio_track_needs_a_source() -> None:
    with pytest.raises(ValidationError):
        AudioTrack()
