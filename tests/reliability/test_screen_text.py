"""Text and style values that reach an ffmpeg filter graph or a subtitle file are data, never
structure: colours and fonts come from a whitelist, text is cleaned once (tools/video/safe_text)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from tools.media.safe_text import ass_colour, clean_text, ffmpeg_colour
from tools.media.subtitles import build_cues, to_ass, to_srt
from tools.video.edl import EDL, SubtitleLine, SubtitleStyle, TextStyle, TitleCard

INJECTION = "&H00FFFFFF\nDialogue: 0,0:00:00.00,0:00:09.00,Default,,0,0,0,,BURNED IN"


def test_a_newline_in_a_subtitle_colour_is_refused():
    with pytest.raises(ValidationError, match="not allowed"):
        SubtitleStyle(color=INJECTION)
    with pytest.raises(ValueError):
        to_ass([], width=320, height=180, color=INJECTION)  # the writer checks too
    with pytest.raises(ValueError, match="not available"):
        to_ass([], width=320, height=180, font="Arial\nStyle: x")


@pytest.mark.parametrize("value,expected", [("white", "white"), ("#ff8800", "0xFF8800"), ("0x112233@0.5", "0x112233@0.5"),
                                            ("black@0.55", "black@0.55")])
def test_allowed_colours_are_normalised(value, expected):
    assert ffmpeg_colour(value) == expected
    assert TextStyle(color=value).color == expected


@pytest.mark.parametrize("value", ["white:box=1", "red@2", "#12345", "rgb(1,2,3)", "white'", "", "white\n"])
def test_other_colours_are_refused(value):
    with pytest.raises(ValidationError):
        TextStyle(color=value)
    with pytest.raises(ValidationError):
        TitleCard(text="x", background=value)


def test_ass_colours_accept_names_and_ass_hex():
    assert ass_colour("&H00FFFFFF") == "&H00FFFFFF" and ass_colour("&H00FF00&") == "&H0000FF00"
    assert ass_colour("yellow") == "&H0000FFFF" and SubtitleStyle(outline_color="#000000").outline_color == "&H00000000"


def test_text_is_cleaned_of_control_characters_tags_and_overrides():
    dirty = "Hi\x00 {\\pos(10,10)}there\n<font color=red>friend</font>\u202e!\tok"
    assert clean_text(dirty) == "Hi there friend! ok"
    line = SubtitleLine(text=dirty, start=0, end=2)
    assert line.text == "Hi there friend! ok"
    srt = to_srt(build_cues([(dirty, 0.0, 2.0)]))
    assert "\x00" not in srt and "{\\" not in srt and "<font" not in srt and "Hi there friend! ok" in srt
    with pytest.raises(ValidationError, match="empty"):
        SubtitleLine(text="{\\b1}\x00\n", start=0, end=1)


def test_braces_that_remain_are_literal_in_ass():
    ass = to_ass(build_cues([("a {not a tag} b \\N c", 0.0, 2.0)]), width=320, height=180)
    dialogue = [line for line in ass.splitlines() if line.startswith("Dialogue:")]
    assert len(dialogue) == 1 and "\\{not a tag\\}" in dialogue[0] and "\\N c" not in dialogue[0]


def test_non_finite_times_are_refused_before_ffmpeg():
    with pytest.raises(ValidationError, match="finite"):
        EDL.model_validate({"clips": [{"source": "a.mp4", "start": 0, "end": float("nan")}]})
    with pytest.raises(ValidationError, match="finite"):
        SubtitleLine(text="x", start=float("-inf"), end=1)


def test_a_rendered_subtitle_file_has_one_dialogue_line_per_cue(tmp_path, corpus, bounded_ctx):
    from tools.core.registry import invoke

    ctx = bounded_ctx(corpus["good"].parent)
    lines = [{"text": "hi\nDialogue: 0,0:00:00.00,0:00:05.00,Default,,0,0,0,,INJECTED", "start": 0.2, "end": 3.8},
             {"text": "{\\an8}top?", "start": 4.2, "end": 5.5}]
    out = invoke("make_subtitles", {"lines": lines, "name": "safe", "width": 320, "height": 180}, ctx)
    assert out.ok, out.error
    ass = (ctx.workspace.root / out.result["ass"]).read_text()
    dialogue = [line for line in ass.splitlines() if line.startswith("Dialogue:")]
    # every event line is a cue: the newline in the text added no line of its own
    assert out.result["cues"] == len(dialogue) >= 2 and "\\an8" not in ass
    assert all(line.count(",Default,,0,0,0,,") >= 1 and line.startswith("Dialogue: 0,") for line in dialogue)
    assert not any(line.startswith("Dialogue: 0,0:00:00.00,0:00:05.00") for line in ass.splitlines())
