"""Subtitles rules, the LLM judge (with a scripted chat model), image sharpness/identity and combining."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from tools.core.settings import settings_from_dict
from tools.core.types import ToolError
from tools.media.subtitles import load_subtitles
from tools.quality.images import score_images
from tools.quality.judge import JudgedLine, Moment, on_screen_at, score_script
from tools.quality.report import ScoreReport, combine
from tools.quality.subtitles import score_subtitles

GOOD_SRT = """1
00:00:00,500 --> 00:00:02,500
Ahoy, Pip!

2
00:00:02,600 --> 00:00:05,000
Who stole my fish,
you little barnacle?
"""

FAST_SRT = GOOD_SRT + """
3
00:00:05,100 --> 00:00:05,900
I did not steal anything, I only borrowed it forever!
"""


class ScriptedChat(BaseChatModel):
    """A real langchain chat model that answers from a list and records the prompts it saw."""

    replies: list[str]
    seen: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        self.seen.append(list(messages))
        reply = self.replies[min(len(self.seen) - 1, len(self.replies) - 1)]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_srt_passes_and_fast_line_is_blamed(tmp_path: Path, settings) -> None:
    lines = ["Ahoy, Pip!", "Who stole my fish, you little barnacle?"]
    good = score_subtitles(_write(tmp_path, "good sub é.srt", GOOD_SRT), settings.quality, 24, lines)
    assert good.passed and good.score == 1.0 and good.metrics["lines_covered"] == 2
    fast = score_subtitles(_write(tmp_path, "fast.srt", FAST_SRT), settings.quality, 24, lines)
    assert fast.score < good.score and fast.blame == ["subtitles"]
    assert any("too fast" in r and "5.1s" in r for r in fast.reasons)
    assert any("over 42" in r for r in fast.reasons)


def test_missing_scripted_line_overlap_and_tight_gap(tmp_path: Path, settings) -> None:
    lines = ["Ahoy, Pip!", "Who stole my fish, you little barnacle?", "The tide waits for no crab."]
    missing = score_subtitles(_write(tmp_path, "a.srt", GOOD_SRT), settings.quality, 24, lines)
    assert not missing.passed and any("1/3 scripted lines" in r for r in missing.reasons)
    overlap = GOOD_SRT.replace("00:00:02,600 --> 00:00:05,000", "00:00:02,000 --> 00:00:05,000")
    report = score_subtitles(_write(tmp_path, "b.srt", overlap), settings.quality, 24)
    assert not report.passed and any("overlap" in r for r in report.reasons)
    tight = GOOD_SRT.replace("00:00:02,600", "00:00:02,540")  # 40 ms < 2 frames at 24 fps
    report = score_subtitles(_write(tmp_path, "c.srt", tight), settings.quality, 24)
    assert any("2 frames" in r for r in report.reasons)
    assert score_subtitles(_write(tmp_path, "d.srt", tight), settings.quality, 60).score == 1.0  # 2.4 frames at 60


def test_ass_parsing_and_bad_files(tmp_path: Path, settings) -> None:
    ass = """[Script Info]
Title: t

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:00.50,0:00:02.50,Default,Brine,0,0,0,,{\\b1}Ahoy,{\\b0} Pip!
Dialogue: 0,0:00:02.60,0:00:05.00,Default,Brine,0,0,0,,Who stole my fish,\\Nyou little barnacle?
"""
    cues = load_subtitles(_write(tmp_path, "s.ass", ass))
    assert [c.lines for c in cues] == [["Ahoy, Pip!"], ["Who stole my fish,", "you little barnacle?"]]
    assert cues[1].start == pytest.approx(2.6)
    with pytest.raises(ToolError, match="empty"):
        load_subtitles(_write(tmp_path, "e.srt", "  \n"))
    with pytest.raises(ToolError, match="no subtitle cues"):
        load_subtitles(_write(tmp_path, "f.srt", "just some text\nwithout timings"))


def _line(topic: str, in_scene: bool, technique: str) -> str:
    return json.dumps({"topic": topic, "verdict": "in this scene" if in_scene else "something else",
                       "technique": technique})


SCENE = ["the place: the harbour", "on screen: the small teal one", 'the film says: "Ahoy!"']
TIMED = [JudgedLine(speaker="Narrator", text="Behold the tiny teal admiral.", start=2.5, end=4.0),
         JudgedLine(speaker="Pip", text="Ahoy means give me fish.", start=5.0, end=6.5),
         JudgedLine(speaker="Narrator", text="My tax return is due on Friday.", start=8.0, end=10.0)]
# The three planted control lines come after the script's lines: plain about the scene, an obvious
# exaggeration about it, plain about office chores. A judge that reads them answers:
RIGHT_CONTROLS = [_line("the harbour", True, "plain statement"), _line("the harbour", True, "exaggeration"),
                  _line("office chores", False, "plain statement")]


def _timed(moments: list[Moment]) -> list[JudgedLine]:
    return [ln.model_copy(update={"on_screen": on_screen_at(moments, ln.start, ln.end)}) for ln in TIMED]


def test_the_judge_answers_per_line_and_the_score_is_the_share_of_yes() -> None:
    settings = settings_from_dict({"llm": {"backend": "fake"}})
    moments = [Moment(start=2.0, end=4.5, what="the small teal one on screen"),
               Moment(start=5.2, end=5.6, what='the film says "Ahoy!"'), Moment(start=12.0, end=12.5, what="a cut")]
    lines = _timed(moments)
    assert lines[0].on_screen == "the small teal one on screen" and lines[2].on_screen == ""
    chat = ScriptedChat(replies=[_line("the teal admiral", True, "exaggeration"), _line("Ahoy", True, "plain statement"),
                                 _line("tax return", False, "plain statement"), *RIGHT_CONTROLS])
    text = "\n".join(f"{ln.speaker}: {ln.text}" for ln in lines)
    report = score_script(text, "a deadpan parody of the harbour", settings, chat, lines=lines, facts=SCENE)
    assert len(chat.seen) == 6  # one call per line, then the three controls
    first = chat.seen[0][-1].content
    # each call shows the request, the measured scene, what is on screen at the line's time, and the line
    assert "a deadpan parody of the harbour" in first and "- the small teal one" in first
    assert "On screen while the line is spoken: the small teal one on screen" in first
    assert first.rstrip().endswith('The line (Narrator): "Behold the tiny teal admiral."')
    assert any("greatest thing ever filmed" in m[-1].content for m in chat.seen[3:])
    assert report.score == pytest.approx(3 / 6, abs=1e-3) and not report.passed and report.blame == ["script"]
    assert report.metrics["scene_decided_by"] == "the model's verdict" and report.metrics["unscored"] == []
    answers = {c["question"]: c["answer"] for c in report.metrics["checklist"]}
    assert answers["line 1 reacts to what the scene shows or says at 2.5s"] == "yes"
    assert answers["line 3 reacts to what the scene shows or says at 8.0s"] == "no"
    assert answers["line 1 uses a joke technique"] == "yes" and answers["line 2 uses a joke technique"] == "no"
    messages = [f.message for f in report.findings]
    assert any(m.startswith('line 3 "My tax return is due on Friday." is about \'tax return\', not what happens on '
                            "screen at 8.0s") for m in messages)
    assert any(m.startswith('line 2 "Ahoy means give me fish." is not a joke') for m in messages)
    assert all(f.blame == "script" for f in report.findings) and len(report.findings) == 3
    good = ScriptedChat(replies=[_line("the teal admiral", True, "exaggeration")] * 3 + RIGHT_CONTROLS)
    assert score_script(text, "a parody", settings, good, lines=lines, facts=SCENE).score == 1.0


def test_a_verdict_that_fails_its_controls_is_replaced_by_the_topic_matched_with_the_scene() -> None:
    settings = settings_from_dict({"llm": {"backend": "fake"}})
    # A yes-sayer (writer-1.5b): every line "in this scene", the office-chores control too; its topics are right.
    chat = ScriptedChat(replies=[_line("the teal admiral", True, "exaggeration"), _line("fish", True, "wordplay"),
                                 _line("tax return", True, "sarcasm"), _line("the harbour", True, "plain statement"),
                                 _line("the harbour", True, "exaggeration"), _line("car insurance", True, "plain statement")])
    report = score_script("x", "a parody", settings, chat, lines=_timed([]), facts=SCENE)
    assert report.metrics["scene_decided_by"].startswith("the topic the model named")
    answers = [c["answer"] for c in report.metrics["checklist"] if c["kind"] == "scene"]
    assert answers == ["yes", "yes", "no"]  # "teal" is on screen, "Ahoy" is said; taxes are not in the scene
    assert report.score == pytest.approx(5 / 6, abs=1e-3)
    # A judge that answers the same whatever it reads: its joke answers tell nothing (not scored); a topic that is
    # not words of the line is replaced by the line itself, matched with the scene.
    same = ScriptedChat(replies=[_line("things", True, "sarcasm")])
    flat = score_script("x", "a parody", settings, same, lines=_timed([]), facts=SCENE)
    assert flat.metrics["unscored"] == ["joke"] and flat.metrics["joke_share"] is None
    assert [c["answer"] for c in flat.metrics["checklist"] if c["kind"] == "scene"] == ["yes", "yes", "no"]  # "Ahoy" is said
    assert any("joke question not scored" in r for r in flat.reasons)
    # Without the scene's facts nothing can be matched: no question counts, the judge is skipped and says why.
    blind = score_script("PIP: Ahoy!", "a parody", settings, ScriptedChat(replies=[_line("things", True, "sarcasm")]))
    assert blind.skipped and "control lines" in blind.reasons[0] and "'This is the scene.'" in blind.reasons[0]


def test_judge_is_skipped_when_it_cannot_judge() -> None:
    tiny = settings_from_dict({"llm": {"backend": "local"}})
    report = score_script("PIP: Ahoy!", "parody", tiny, ScriptedChat(replies=RIGHT_CONTROLS))
    assert report.skipped and "too small" in report.reasons[0]
    fake = settings_from_dict({"llm": {"backend": "fake"}})
    garbled = score_script("PIP: Ahoy!", "parody", fake, ScriptedChat(replies=["I think it is nice!"]))
    assert garbled.skipped and "failed validation" in garbled.reasons[0]
    assert score_script("PIP: Ahoy!", "parody", fake, None).skipped
    empty = score_script("  ", "parody", fake, None)
    assert not empty.passed and empty.blame == ["script"]


def test_images_sharpness_and_identity(tmp_path: Path, settings) -> None:
    rng = np.random.default_rng(0)
    sharp = (rng.integers(0, 2, (64, 64)) * 255).astype(np.uint8)
    sharp = cv2.resize(sharp, (512, 512), interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(tmp_path / "sharp.png"), sharp)
    cv2.imwrite(str(tmp_path / "blurry.png"), cv2.GaussianBlur(sharp, (0, 0), 12))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG nope")
    good = score_images([tmp_path / "sharp.png"], settings.quality)
    assert good.passed and "skipped" in good.metrics["identity"]
    blurry = score_images([tmp_path / "sharp.png", tmp_path / "blurry.png"], settings.quality)
    assert blurry.score < good.score and blurry.metrics["sharpness"]["blurry.png"] < 100
    broken = score_images([tmp_path / "broken.png"], settings.quality)
    assert not broken.passed and "broken.png" in broken.reasons[0]
    stranger = score_images([tmp_path / "sharp.png"], settings.quality, identity=lambda p: 0.1)
    assert not stranger.passed and stranger.blame == ["images"]
    assert score_images([], settings.quality).skipped


def test_combine_uses_weights_and_leaves_skipped_out() -> None:
    reports = [ScoreReport(scorer="video", score=1.0, passed=True),
               ScoreReport(scorer="subtitles", score=0.4, passed=False, blame=["subtitles"]),
               ScoreReport.skip("script", "no LLM")]
    combined = combine(reports, {"video": 0.6, "subtitles": 0.2, "script": 0.2}, threshold=0.7)
    assert combined.score == pytest.approx((0.6 * 1 + 0.2 * 0.4) / 0.8)
    assert set(combined.weights_used) == {"video", "subtitles"}
    assert not combined.passed and combined.blame == ["subtitles"]  # a failing scorer fails the whole
    assert any("script: skipped" in r for r in combined.reasons)
    ok = combine(reports[:1] + reports[2:], {"video": 1.0}, 0.7)
    assert ok.passed and ok.blame == []
    assert not combine([ScoreReport.skip("video", "none")], {"video": 1.0}, 0.7).passed
