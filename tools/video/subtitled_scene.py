"""Tool `render_subtitled_scene`: a part of a film with its lines as burned-in subtitles, and a narrator.

The lines are what `transcribe` heard in that part (the film's cached transcript, word-timed, in
film seconds), so the subtitles say what the characters say. A narration is spoken with the
Narrator's voice preset where nobody speaks (or over the held first frame when the part has no
silence long enough), the original sound ducked under it, and subtitled too. Output: an MP4 with
the subtitles burned in, plus SRT/ASS files.
"""
from __future__ import annotations

import re
from typing import Any

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.subtitles import build_cues, to_ass, to_srt
from tools.video.edl import EDL, AudioTrack, Clip, FreezeFrame, SubtitleLine
from tools.video.models import SceneLine
from tools.video.render import render

NARRATION_START_S = 0.4  # a breath after the cut before the narrator starts
MAX_NARRATION_CHARS = 240


class SubtitledScene(ToolResult):
    video: str
    srt: str
    ass: str
    start: float
    end: float
    lines: list[dict[str, Any]]  # the subtitled lines in clip time: text, start, end, speaker
    transcript: str  # what is said in the part (empty: no speech)
    narration: str = ""
    narration_audio: str | None = None

    def summary(self) -> str:
        said = f"{len(self.lines)} subtitle lines" if self.lines else "no speech found, no dialogue subtitles"
        narr = f"; narrator: {self.narration[:80]!r}" if self.narration else ""
        return f"{self.video} ({self.end - self.start:.1f}s of the film, {said}{narr})"


def quiet_start(lines: list[dict[str, Any]], needed: float, length: float) -> float | None:
    """Where a narration of `needed` seconds fits between the spoken lines of a part `length` long."""
    edges = [0.0, *[x for line in sorted(lines, key=lambda l: l["start"]) for x in (line["start"], line["end"])], length]
    for gap_start, gap_end in zip(edges[::2], edges[1::2]):
        if gap_end - gap_start >= needed + 2 * NARRATION_START_S:
            return round(gap_start + NARRATION_START_S, 3)
    return None


def _narration_from(ctx: ToolContext, description: str, transcript: str) -> str:
    """One or two sentences a narrator says over the scene: the chat model's, else the scene's own description."""
    text = ""
    if ctx.llm is not None and description:
        from langchain_core.messages import HumanMessage

        ask = ("Write one or two short sentences a documentary narrator says over this scene of an animated film. "
               f"Only the spoken words.\nThe scene: {description[:300]}\nWhat the characters say: "
               f"{transcript[:300] or '(nothing)'}")
        try:
            reply = ctx.llm.invoke([HumanMessage(content=ask)])
            text = reply.content if isinstance(reply.content, str) else ""
        except Exception as exc:  # the narration is a bonus; the description below still speaks
            ctx.trace.event("subtitle_scene.narration_failed", error=f"{type(exc).__name__}: {exc}")
    text = re.sub(r"[*_#`\"“”]|^\s*(narrator|narration)\s*:\s*", "", text.strip(), flags=re.I)
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    text = " ".join(sentences[:2]).strip()
    if len(re.findall(r"[A-Za-zÀ-ÿ]{2,}", text)) < 3:  # no usable model answer: the scene's first clause
        first = description.split(";")[0].strip(" .")
        text = f"{first[:1].upper()}{first[1:]}." if first else ""
    return text[:MAX_NARRATION_CHARS]


@tool(family="video", resources=("tts",))
def render_subtitled_scene(ctx: ToolContext, film: InputPath, start: float, end: float, lines: list[SceneLine] | None = None,
                           narration: str = "", add_narration: bool = False, scene_description: str = "",
                           narrator: str = "Narrator", output_name: str = "subtitled") -> SubtitledScene:
    """Render a part of a film with its lines (from `transcribe`) as burned-in subtitles, optionally with a
    narrator voice-over placed where nobody speaks; writes the MP4 plus SRT and ASS files.

    Args:
        film: The video file.
        start: Where the part starts, in seconds of the film.
        end: Where it ends, in seconds.
        lines: What is said in the part, in film seconds (transcribe's `lines`).
        narration: Words for a narrator to say ("" = none).
        add_narration: Write a short narration from the scene's description when none is given.
        scene_description: What the scene shows (from find_scene), for the written narration.
        narrator: The character preset whose voice narrates.
        output_name: File name stem of the MP4.
    """
    from tools.audio.tts import synthesize
    from tools.media.probe import media_info

    info = media_info(film, ctx.settings.video.ffprobe)
    if end <= start or start < 0:
        raise ToolError(f"the part {start:.2f}–{end:.2f}s is empty", "give 0 ≤ start < end")
    end = min(end, info.duration)
    if end - start < 0.2:
        raise ToolError(f"the part {start:.2f}–{end:.2f}s is outside the film ({info.duration:.2f}s)")
    said = [line for line in lines or [] if line.text.strip() and line.end > start and line.start < end]
    transcript = " ".join(line.text.strip() for line in said)
    timed: list[dict[str, Any]] = []  # clip seconds from here on
    for line in said:
        a, b = max(0.0, line.start - start), min(end - start, line.end - start)
        if b > a:
            timed.append({"text": line.text.strip(), "start": round(a, 3), "end": round(b, 3), "speaker": ""})
    lines_out = timed
    audio: list[AudioTrack] = []
    clips: list = [Clip(source=str(film), start=start, end=end)]
    narration = " ".join(narration.split())[:MAX_NARRATION_CHARS]
    if not narration and add_narration:
        narration = _narration_from(ctx, scene_description, transcript)
    voice_path = None
    if narration:
        speech = synthesize(ctx, narration, voice=narrator, output_name=f"{output_name}_narrator")
        voice_path = speech.audio
        at = quiet_start(lines_out, speech.duration, end - start)
        if at is None:  # no silence long enough: the narrator speaks over the held first frame
            hold = round(speech.duration + 2 * NARRATION_START_S, 3)
            clips.insert(0, FreezeFrame(source=str(film), at=start, duration=hold))
            lines_out = [{**line, "start": line["start"] + hold, "end": line["end"] + hold} for line in lines_out]
            at = NARRATION_START_S
        audio.append(AudioTrack(source=speech.audio, at=at, role="voice"))
        for seg in speech.segments:
            lines_out.append({"text": seg.text, "start": round(at + seg.start, 3), "end": round(at + seg.end, 3),
                              "speaker": narrator})
    lines_out.sort(key=lambda line: line["start"])
    cues = build_cues([(line["text"], line["start"], line["end"]) for line in lines_out], fps=info.fps or 24.0)
    srt = ctx.workspace.unique_output(output_name, ".srt", "subtitles")
    srt.write_text(to_srt(cues), encoding="utf-8")
    ass = srt.with_suffix(".ass")
    ass.write_text(to_ass(cues, width=info.width or 1280, height=info.height or 720), encoding="utf-8")
    edl = EDL(clips=clips, audio=audio,
              subtitles=[SubtitleLine(text=line["text"], start=line["start"], end=line["end"]) for line in lines_out],
              output=f"renders/{output_name}.mp4")
    rendered = render(ctx, edl)
    srt_rel, ass_rel = ctx.workspace.relative(srt), ctx.workspace.relative(ass)
    artifacts = list(rendered.artifacts) + [Artifact(path=srt_rel, kind="subtitles"),
                                            Artifact(path=ass_rel, kind="subtitles")]
    return SubtitledScene(video=rendered.path, srt=srt_rel, ass=ass_rel, start=start, end=end, lines=lines_out,
                          transcript=transcript, narration=narration, narration_audio=voice_path, artifacts=artifacts)
