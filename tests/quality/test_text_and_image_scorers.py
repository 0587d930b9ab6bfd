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


def _checklist(lines: list[tuple[str, bool, str]], fits: bool = True, speakers: bool = True) -> str:
    return json.dumps({"lines": [{"reacts_to": r, "about_scene": a, "technique": t} for r, a, t in lines],
                       "fits_request": fits, "speakers_fit": speakers})


SCENE = ["the place: the harbour", "on screen: the small teal one", 'the film says: "Ahoy!"']
TIMED = [JudgedLine(speaker="Narrator", text="Behold the tiny teal admiral.", start=2.5, end=4.0),
         JudgedLine(speaker="Pip", text="Ahoy means give me fish.", start=5.0, end=6.5),
         JudgedLine(speaker="Narrator", text="The harbour has never been so bored.", start=8.0, end=10.0)]


def test_judge_scores_the_share_of_yes_answers_and_names_each_no() -> None:
    settings = settings_from_dict({"llm": {"backend": "fake"}})
    moments = [Moment(start=2.0, end=4.5, what="the small teal one on screen"),
               Moment(start=5.2, end=5.6, what='the film says "Ahoy!"'), Moment(start=12.0, end=12.5, what="a cut")]
    lines = [ln.model_copy(update={"on_screen": on_screen_at(moments, ln.start, ln.end)}) for ln in TIMED]
    assert lines[0].on_screen == "the small teal one on screen" and lines[2].on_screen == ""
    good = ScriptedChat(replies=[_checklist([("the teal one", True, "exaggeration"), ("the film's Ahoy", True, "wordplay"),
                                             ("the harbour", True, "understatement")])])
    text = "\n".join(f"{ln.speaker}: {ln.text}" for ln in lines)
    report = score_script(text, "a deadpan parody of the harbour", settings, good, lines=lines, facts=SCENE)
    assert report.passed and report.score == 1.0 and report.metrics["asked"] == 8 and report.blame == []
    prompt = good.seen[0][-1].content
    # the judge sees the request, the measured scene, every line with its time and what is on screen then
    assert "a deadpan parody of the harbour" in prompt and "the small teal one" in prompt
    assert '(2.5-4.0s) Narrator: "Behold the tiny teal admiral."' in prompt and "On screen then: the small teal one" in prompt
    # a yes without evidence is no yes; an unanswered line counts as a no; each no names its line
    weak = ScriptedChat(replies=[_checklist([("none", True, "irony"), ("the film's Ahoy", True, "none")], fits=False)])
    low = score_script(text, "a deadpan parody of the harbour", settings, weak, lines=lines, facts=SCENE)
    assert low.score == pytest.approx(3 / 8, abs=1e-3) and not low.passed and low.blame == ["script"]
    answers = {c["question"]: c["answer"] for c in low.metrics["checklist"]}
    assert answers["line 1 reacts to what is on screen or said at 2.5s"] == "no"
    assert answers["line 1 uses a joke technique"] == "yes" and answers["line 2 uses a joke technique"] == "no"
    assert answers["line 3 reacts to what is on screen or said at 8.0s"] == "no"
    assert low.metrics["scene_share"] == pytest.approx(1 / 3, abs=1e-3) and low.metrics["joke_share"] == pytest.approx(1 / 3, abs=1e-3)
    messages = [f.message for f in low.findings]
    assert any(m.startswith('line 1 "Behold the tiny teal admiral." is not about what happens on screen at 2.5s '
                            "(the small teal one on screen)") for m in messages)
    assert any("kind of parody and tone" in m for m in messages) and all(f.blame == "script" for f in low.findings)


def test_judge_reads_a_plain_script_without_times() -> None:
    settings = settings_from_dict({"llm": {"backend": "fake"}})
    chat = ScriptedChat(replies=[_checklist([("Pip's greeting", True, "deadpan"), ("none", False, "none")])])
    report = score_script("PIP: Ahoy!\nBRINE: Taxes are due.", "a funny parody", settings, chat)
    assert report.score == pytest.approx(4 / 6, abs=1e-3) and not report.passed
    assert 'PIP: "Ahoy!"' in chat.seen[0][-1].content and "(not measured" in chat.seen[0][-1].content


def test_judge_is_skipped_when_it_cannot_judge() -> None:
    tiny = settings_from_dict({"llm": {"backend": "local"}})
    report = score_script("PIP: Ahoy!", "parody", tiny, ScriptedChat(replies=[_checklist([("Pip", True, "irony")])]))
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
