"""Structured findings: what a scorer found (a code), what to redo (a blame), and the human words.

Scorers emit `Finding`s; workflows route a finding's `blame` to steps (`on_blame`); repair steps read
the `code` and `data` (which line, which scene, which name), never the English `message`. The message
is for people and for an LLM asked to rewrite something.
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Iterable

from pydantic import BaseModel, Field, model_validator


class Blame(str, Enum):
    """What to redo. A workflow's `on_blame` maps each to its steps."""

    find = "find"            # the scene search picked the wrong scene
    script = "script"        # the words: off the request or the scene, unknown names, too long/short
    voices = "voices"        # the speech: missing, garbled, cut or other words than the script
    audio_mix = "audio_mix"  # levels: loudness, true peak, clipping
    subtitles = "subtitles"  # the subtitle file's rules or the burned subtitles in the picture
    render = "render"        # the edit itself: streams, sync, black/frozen picture, footage out of the scene
    images = "images"        # generated images: unreadable, blurry, off-identity
    answer = "answer"        # a free answer: off the request, names files it did not make


class Code(str, Enum):
    # video
    no_video = "no_video"
    unreadable_media = "unreadable_media"
    duration_off = "duration_off"
    no_audio = "no_audio"
    av_drift = "av_drift"
    black_picture = "black_picture"
    frozen_picture = "frozen_picture"
    low_resolution = "low_resolution"
    # audio levels
    silent_soundtrack = "silent_soundtrack"
    loudness_off = "loudness_off"
    true_peak = "true_peak"
    clipping = "clipping"
    mostly_silence = "mostly_silence"
    # speech
    line_not_heard = "line_not_heard"      # no energy in the line's window (no recogniser at hand)
    line_missing = "line_missing"          # the recogniser hears no words where the line should be
    line_garbled = "line_garbled"          # words heard, most of them wrong
    line_cut = "line_cut"                  # the start is right, the rest is missing
    line_wrong_words = "line_wrong_words"  # fluent speech of other words
    # subtitle file
    subtitle_too_long = "subtitle_too_long"
    subtitle_too_many_lines = "subtitle_too_many_lines"
    subtitle_too_fast = "subtitle_too_fast"
    subtitle_too_short = "subtitle_too_short"
    subtitle_gap = "subtitle_gap"
    subtitle_overlap = "subtitle_overlap"
    subtitle_empty = "subtitle_empty"
    subtitle_past_end = "subtitle_past_end"
    subtitle_line_missing = "subtitle_line_missing"
    # subtitles in the picture
    subtitles_not_in_picture = "subtitles_not_in_picture"
    subtitle_text_unreadable = "subtitle_text_unreadable"
    # scene fit
    footage_outside_scene = "footage_outside_scene"
    scene_mismatch = "scene_mismatch"
    scene_ambiguous = "scene_ambiguous"
    # request fit / script
    script_empty = "script_empty"
    script_off_request = "script_off_request"
    unknown_character = "unknown_character"
    foreign_place = "foreign_place"
    judge_low = "judge_low"
    # comedy (tools/quality/comedy.py)
    comedy_off_screen = "comedy_off_screen"    # too few lines name something of the scene
    comedy_thin_speech = "comedy_thin_speech"  # too little of the parody is voiced
    comedy_beat_missed = "comedy_beat_missed"  # a long gap with a beat carries no line or gag
    comedy_repeated = "comedy_repeated"        # lines of the film's earlier parodies came back
    comedy_echo = "comedy_echo"                # a line says nothing an earlier line of the same parody did not
    # images
    image_unreadable = "image_unreadable"
    image_blurry = "image_blurry"
    image_off_identity = "image_off_identity"
    # free answers (ReAct, free plans)
    answer_missing = "answer_missing"
    answer_off_request = "answer_off_request"
    answer_file_missing = "answer_file_missing"
    answer_files_unnamed = "answer_files_unnamed"
    tool_errors = "tool_errors"
    # plan steps (blame: the step id)
    step_failed = "step_failed"
    artifact_missing = "artifact_missing"
    # a finding from outside the scorers (e.g. plain text feedback)
    note = "note"


B = Blame
DEFAULT_BLAME: dict[Code, Blame] = {
    Code.no_video: B.render, Code.unreadable_media: B.render, Code.duration_off: B.script, Code.no_audio: B.render,
    Code.av_drift: B.render, Code.black_picture: B.render, Code.frozen_picture: B.render,
    Code.low_resolution: B.render,
    Code.silent_soundtrack: B.voices, Code.loudness_off: B.audio_mix, Code.true_peak: B.audio_mix,
    Code.clipping: B.audio_mix, Code.mostly_silence: B.audio_mix,
    Code.line_not_heard: B.voices, Code.line_missing: B.voices, Code.line_garbled: B.voices, Code.line_cut: B.voices,
    Code.line_wrong_words: B.voices,
    **{c: B.subtitles for c in Code if c.value.startswith("subtitle")},
    Code.footage_outside_scene: B.render, Code.scene_mismatch: B.find, Code.scene_ambiguous: B.find,
    Code.script_empty: B.script, Code.script_off_request: B.script, Code.unknown_character: B.script,
    Code.foreign_place: B.script, Code.judge_low: B.script,
    **{c: B.script for c in Code if c.value.startswith("comedy_")},
    Code.image_unreadable: B.images, Code.image_blurry: B.images, Code.image_off_identity: B.images,
    Code.answer_missing: B.answer, Code.answer_off_request: B.answer, Code.answer_file_missing: B.answer,
    Code.answer_files_unnamed: B.answer, Code.tool_errors: B.answer,
}

# Codes a re-voice can fix (voice_script) and codes the mix can fix (assemble_parody).
SPEECH_CODES = frozenset({Code.line_not_heard, Code.line_missing, Code.line_garbled, Code.line_cut,
                          Code.line_wrong_words, Code.silent_soundtrack})
MIX_CODES = frozenset({Code.loudness_off, Code.true_peak, Code.clipping})


class Finding(BaseModel):
    """One problem: `code` says what, `blame` what to redo, `data` where (line, scene, name…)."""

    code: Code
    message: str = ""
    blame: str = ""  # a Blame value, or a plan step id for step failures
    data: dict[str, Any] = Field(default_factory=dict)
    iteration: int | None = None  # the agent iteration whose evaluation found it (set by reflect)

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):  # plain text (a person's or a model's words) is carried as a note
            return {"code": Code.note, "message": value}
        return value

    @model_validator(mode="after")
    def _default_blame(self) -> "Finding":
        if not self.blame and self.code in DEFAULT_BLAME:
            self.blame = DEFAULT_BLAME[self.code].value
        return self

    def __str__(self) -> str:
        return self.message or self.code.value


def findings(values: Iterable[Any]) -> list[Finding]:
    """Validate feedback items (Finding dicts, models or plain strings); unreadable items are dropped."""
    out: list[Finding] = []
    for value in values or []:
        try:
            out.append(value if isinstance(value, Finding) else Finding.model_validate(value))
        except ValueError:
            continue
    return out


def with_codes(items: Iterable[Finding], codes: Iterable[Code]) -> list[Finding]:
    wanted = set(codes)
    return [f for f in items if f.code in wanted]


def latest(items: Iterable[Finding]) -> list[Finding]:
    """The findings of the most recent evaluation (feedback carries every iteration's)."""
    items = list(items)
    last = max((f.iteration for f in items if f.iteration is not None), default=None)
    return [f for f in items if f.iteration == last]


def messages(items: Iterable[Any], limit: int = 8) -> list[str]:
    """The human words of the latest findings (for prompts and answers)."""
    return list(dict.fromkeys(str(f) for f in latest(findings(items))))[:limit]
