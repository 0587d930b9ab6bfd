"""Film transcripts: the speech of a film recognised once (cached by content fingerprint), lines given to scenes.

The cache lives beside the scene analysis (`paths.cache_dir/video/transcripts/<fingerprint>.json`);
the fingerprint covers the file and every setting that changes the words (model, language, VAD,
beam), so a new model or a re-encoded film is transcribed again and nothing else is.
"""
from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import Field, computed_field

from tools.audio import asr
from tools.audio.asr import Segment, Transcript, resolve_asr_model, vad_parameters
from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError, ToolResult, Unmet
from tools.media.probe import media_info
from tools.core.settings import Settings
from tools.media.subtitles import MAX_LINES, build_cues, to_ass, to_srt, wrap
from tools.media.timecode import format_timecode
from tools.video import cache
from tools.video.models import Scene, SceneLine, TranscriptInfo

TRANSCRIPT_VERSION = 1


def transcript_params(settings, model: Path) -> dict:
    vs = settings.video
    return {"v": TRANSCRIPT_VERSION, "model": str(model), "language": vs.asr_language, "vad": vs.asr_vad,
            "vad_parameters": vad_parameters(settings) if vs.asr_vad else None, "beam": vs.asr_beam_size,
            "compute": vs.asr_compute_type}


def transcript_root(settings) -> Path:
    return cache.cache_root(settings).parent / "transcripts"


def _load(path: Path) -> Transcript | None:
    try:
        return Transcript.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent, half-written or from an older model: transcribe again


def _save(path: Path, transcript: Transcript) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(transcript.model_dump_json())
    os.replace(tmp, path)


def whole_transcript_path(settings: Settings, film: Path, params: dict | None = None) -> Path:
    params = params if params is not None else transcript_params(settings, resolve_asr_model(settings))
    return transcript_root(settings) / f"{cache.film_fingerprint(film, params)}.json"


def film_transcript(ctx: ToolContext, film: Path, duration: float, start_s: float | None = None,
                    end_s: float | None = None) -> tuple[Transcript, TranscriptInfo]:
    """The film's transcript (a window of it when start/end are given), from the cache when it is there.

    Raises ToolError when no speech model is available (the message names `video.asr_model_path`).
    """
    settings = ctx.settings
    model = resolve_asr_model(settings)
    params = transcript_params(settings, model)
    path = whole_transcript_path(settings, film, params)
    found = _load(path)  # the whole film's transcript serves every window of it
    if found is None and (start_s is not None or end_s is not None):
        path = transcript_root(settings) / f"{cache.film_fingerprint(film, {**params, 'window': [start_s, end_s]})}.json"
        found = _load(path)
    if found is not None:
        return found, TranscriptInfo(model=found.model, language=found.language, lines=len(found.segments), cached=True)
    t0 = time.perf_counter()
    span = (end_s if end_s is not None else duration) - (start_s or 0.0)
    with ctx.progress.task(f"speech: {film.name}", total=round(max(span, 0.1), 1)) as task:
        def advance(segment: Segment) -> None:
            task.update(completed=round(segment.end - (start_s or 0.0), 1))

        result = asr.transcribe(film, settings, start_s=start_s, end_s=end_s, on_segment=advance)
    seconds = round(time.perf_counter() - t0, 3)
    _save(path, result)
    ctx.trace.event("video.transcript", film=str(film), lines=len(result.segments), language=result.language,
                    model=result.model, seconds=seconds, realtime=round(span / max(seconds, 1e-6), 1))
    return result, TranscriptInfo(model=result.model, language=result.language, lines=len(result.segments),
                                  seconds=seconds)


def scene_transcript(ctx: ToolContext, film: Path, duration: float, has_audio: bool) -> tuple[Transcript | None,
                                                                                                  TranscriptInfo]:
    """The transcript for scene search, or None with the reason (no audio, setting off, no model)."""
    mode = ctx.settings.video.transcribe_scenes
    if mode == "never":
        return None, TranscriptInfo(note="video.transcribe_scenes is never")
    if not has_audio:
        return None, TranscriptInfo(note="the film has no audio track")
    try:
        transcript, info = film_transcript(ctx, film, duration)
    except ToolError as exc:
        if mode == "always":
            raise
        ctx.trace.event("video.transcript_skipped", film=str(film), reason=exc.message)
        return None, TranscriptInfo(note=f"no transcript: {exc.message} ({exc.hint})")
    return transcript, info


def attach_lines(scenes: list[Scene], transcript: Transcript) -> None:
    """Give each scene the lines said during it; a line crossing a cut goes to every scene it overlaps."""
    for scene in scenes:
        scene.lines = []
    for line in transcript_lines(transcript):
        for scene in scenes:
            overlap = min(line.end, scene.end) - max(line.start, scene.start)
            if overlap > 0.25 or scene.start <= (line.start + line.end) / 2 < scene.end:
                scene.lines.append(line)


def transcript_lines(transcript: Transcript) -> list[SceneLine]:
    """Lines timed by their words (a segment's own bounds include the VAD padding around the speech)."""
    out = []
    for seg in transcript.segments:
        words = [w for w in seg.words if w.text.strip()]
        if not seg.text.strip():
            continue
        start, end = (words[0].start, words[-1].end) if words else (seg.start, seg.end)
        out.append(SceneLine(start=start, end=end, text=seg.text.strip(), words=[w.model_dump() for w in words]))
    return out


# ---- the `transcribe` tool --------------------------------------------------------------------

class TranscriptResult(ToolResult):
    film: str
    start: float
    end: float
    language: str
    model: str
    text: str
    lines: list[SceneLine]
    srt: str | None = None
    ass: str | None = None
    video: str | None = None  # the part with the subtitles burned in (burn=true)
    cached: bool = False
    cues: int = 0
    warnings: list[str] = Field(default_factory=list)

    nearest: SceneLine | None = None  # when nothing is said in the part: the closest line of the film, if known

    @computed_field  # type: ignore[prop-decorator]
    @property
    def said(self) -> str:
        """What is said, for a person: the lines quoted, or that nothing is, and where the nearest line is."""
        if self.lines:
            return " ".join(f"“{line.text}”" for line in self.lines)
        out = f"nothing is said between {format_timecode(self.start, 'short')} and {format_timecode(self.end, 'short')}"
        if self.nearest is not None:
            out += f"; the nearest line, at {format_timecode(self.nearest.start, 'short')}, is “{self.nearest.text}”"
        return out

    def summary(self) -> str:
        head = f"{len(self.lines)} lines said in {Path(self.film).name} {self.start:.1f}-{self.end:.1f}s ({self.language})"
        head += f"; subtitles {self.srt}" if self.srt else ""
        head += f"; video {self.video}" if self.video else ""
        return head + (f": {self.text[:160]}" if self.text else "")


def word_timed_lines(segments: list[Segment]) -> list[tuple[str, float, float]]:
    """Segments → subtitle-sized pieces timed by their own words (not shared out by length)."""
    out: list[tuple[str, float, float]] = []
    for seg in segments:
        words = [w for w in seg.words if w.text.strip()]
        if not words:
            out.append((seg.text.strip(), seg.start, seg.end))
            continue
        piece: list = []
        for word in words:
            candidate = " ".join(w.text for w in [*piece, word])
            if piece and len(wrap(candidate)) > MAX_LINES:
                out.append((" ".join(w.text for w in piece), piece[0].start, piece[-1].end))
                piece = []
            piece.append(word)
        if piece:
            out.append((" ".join(w.text for w in piece), piece[0].start, piece[-1].end))
    return out


def asr_unmet(settings, args: dict) -> list[Unmet]:
    """What `transcribe` needs: faster-whisper and a speech model (checked before a plan runs)."""
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        return [Unmet(setting="", problem="faster-whisper is not installed", fix="pip install faster-whisper")]
    try:
        resolve_asr_model(settings)
    except ToolError as exc:
        return [Unmet(setting="video.asr_model_path", problem=exc.message,
                      fix=exc.hint or "set video.asr_model_path to a CTranslate2 Whisper folder")]
    return []


@tool(family="video", requires=asr_unmet)
def transcribe(ctx: ToolContext, film: InputPath, start: float | None = None, end: float | None = None,
               subtitles: Literal["srt+ass", "none"] = "srt+ass", burn: bool = False,
               name: str = "transcript") -> TranscriptResult:
    """Transcribe what is said in a film or a part of it (offline faster-whisper, voice activity detection on),
    with word timings, and write SRT + ASS subtitles cued on the words (the subtitle timing rules apply).

    Args:
        film: The video or audio file.
        start: Start of the part to transcribe in seconds (default: the beginning).
        end: End of the part in seconds (default: the end).
        subtitles: "srt+ass" writes subtitle files; "none" returns the text and lines only.
        burn: Also render the part as an MP4 with the subtitles burned into the picture.
        name: File name stem of the subtitle files (saved under subtitles/).
    """
    info = media_info(film, ctx.settings.video.ffprobe)
    if not info.has_audio:
        raise ToolError(f"{film.name} has no audio track", "transcribe needs a file with sound")
    lo, hi = max(0.0, start or 0.0), min(info.duration, end if end is not None else info.duration)
    if hi - lo < 0.1:
        raise ToolError(f"the part {lo:.2f}-{hi:.2f}s is empty ({film.name} is {info.duration:.1f}s long)",
                        "give start < end inside the film")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,48}", name):
        raise ToolError(f"invalid name {name!r}", "use letters, digits, '_' and '-'")
    whole = lo <= 0.0 and hi >= info.duration - 0.05
    transcript, meta = film_transcript(ctx, film, info.duration, None if whole else lo, None if whole else hi)
    segments = [s for s in transcript.segments if s.end > lo and s.start < hi]
    lines = [line for line in transcript_lines(transcript) if line.end > lo and line.start < hi]
    result = TranscriptResult(film=str(film), start=round(lo, 3), end=round(hi, 3), language=transcript.language,
                              model=transcript.model, text=" ".join(line.text for line in lines), lines=lines,
                              cached=meta.cached)
    if not lines:
        result.nearest = nearest_line(ctx, film, lo, hi)
    if subtitles == "none" or not lines:
        return result
    fps = float(info.fps or ctx.settings.video.fps)
    # Times stay in film seconds: the files line up with the film (or a clip cut at `start` shifts them).
    cues = build_cues(word_timed_lines(segments), fps=fps, timeline_end=info.duration)
    srt = ctx.workspace.unique_output(name, ".srt", "subtitles")
    srt.write_text(to_srt(cues), encoding="utf-8")
    ass = srt.with_suffix(".ass")
    ass.write_text(to_ass(cues, width=int(info.width or 1280), height=int(info.height or 720)), encoding="utf-8")
    paths = [ctx.workspace.relative(srt), ctx.workspace.relative(ass)]
    result.srt, result.ass, result.cues = paths[0], paths[1], len(cues)
    result.warnings = [f"{' '.join(c.lines)[:30]!r}: {w}" for c in cues for w in c.warnings]
    result.artifacts = [Artifact(path=p, kind="subtitles", metadata={"what": "transcript"}) for p in paths]
    if burn and info.has_video:
        rendered = _burn(ctx, film, lo, hi, cues, name, fps)
        result.video = rendered.path
        result.artifacts += rendered.artifacts
    return result


def nearest_line(ctx: ToolContext, film: Path, lo: float, hi: float) -> SceneLine | None:
    """The film's line closest to [lo, hi], from the whole film's transcript when it is already made (a scene
    search by speech makes it); never a fresh transcription of a whole film just for this."""
    whole = _load(whole_transcript_path(ctx.settings, film))
    if whole is None:
        return None
    lines = transcript_lines(whole)
    return min(lines, key=lambda line: max(lo - line.end, line.start - hi, 0.0), default=None)


def _burn(ctx: ToolContext, film: Path, lo: float, hi: float, cues: list, name: str, fps: float):
    """The part [lo, hi] of the film with the cues burned in (one render_edit run, times shifted to the clip)."""
    from tools.video.edl import EDL, Clip, SubtitleLine
    from tools.video.render import render

    subs = [SubtitleLine(text=" ".join(c.lines), start=round(max(0.0, c.start - lo), 3), end=round(min(hi, c.end) - lo, 3))
            for c in cues if c.end > lo and c.start < hi and min(hi, c.end) - max(lo, c.start) > 0.05]
    edl = EDL(clips=[Clip(source=str(film), start=round(lo, 3), end=round(hi, 3))], subtitles=subs, fps=fps,
              output=f"subtitles/{name}_{lo:.1f}-{hi:.1f}.mp4")
    return render(ctx, edl)
