"""The quality gate: run every scorer that has its input, combine by settings.quality.weights.

Media hygiene (video, audio, subtitle file rules) and content (speech heard back, subtitles seen in
the picture, scene fit, request fit, the LLM judge when a capable model is configured, images). The
expensive scorers (ffmpeg passes, speech recognition, frame grabs + OCR) run side by side.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, Field
from threadpoolctl import threadpool_limits

from tools.core.child_processes import ScopedThreadPool
from tools.core.context import ToolContext
from tools.core.findings import Code
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.ffmpeg import ffprobe_json
from tools.media.probe import media_info
from tools.media.subtitles import load_subtitles
from tools.quality.av import LineWindow, score_audio, score_video
from tools.quality.burned_subtitles import TimeSpan, score_burned_subtitles
from tools.quality.comedy import ComedyInput, score_comedy
from tools.quality.images import IdentityFn, score_images
from tools.quality.judge import JudgedLine, Moment, judge_unavailable, on_screen_at, score_script
from tools.quality.measure import decode_mono
from tools.quality.report import CombinedReport, ScoreReport, combine
from tools.quality.request_fit import score_request_fit
from tools.quality.scene_fit import SceneInfo, score_scene_fit
from tools.quality.speech import score_speech
from tools.quality.subtitles import score_subtitles

BROKEN_INPUT = {"video": Code.unreadable_media, "audio": Code.unreadable_media, "speech": Code.unreadable_media,
                "subtitles": Code.subtitle_empty, "burned_subtitles": Code.subtitles_not_in_picture,
                "images": Code.image_unreadable}


class SceneContext(BaseModel):
    """What the content scorers know about where the result comes from (a parody's film and scene)."""

    film: Path | None = None
    scene: SceneInfo | None = None
    scenes: list[SceneInfo] = Field(default_factory=list)
    timeline: list[TimeSpan] = Field(default_factory=list)
    match_scores: list[float] = Field(default_factory=list)  # the scene search's scores, best first
    known_names: list[str] = Field(default_factory=list)  # the film's cast from the knowledge base
    known_text: str = ""  # what the knowledge base says about the film
    film_transcript: str = ""
    title: str = ""
    extend: bool = False  # the request asked for more than the scene: running on into the next scenes is fine
    comedy: ComedyInput | None = None  # the scene's facts and beats, the film's earlier parodies (a parody)
    facts: list[str] = Field(default_factory=list)  # what the scene shows and says, in words (for the judge)
    moments: list[Moment] = Field(default_factory=list)  # what happens when, in the result's seconds (for the judge)


class EvaluationResult(ToolResult):
    report: CombinedReport
    report_path: str = ""

    def summary(self) -> str:
        return self.report.summary()


def guarded(scorer: str, fn: Callable[[], ScoreReport]) -> ScoreReport:
    """A scorer whose input is broken fails (with the reason) instead of aborting the whole evaluation.
    The seconds it took go into its metrics (the gate's cost, scorer by scorer)."""
    started = time.perf_counter()
    try:
        report = fn()
    except ToolError as exc:
        report = ScoreReport.failure(scorer, BROKEN_INPUT.get(scorer, Code.unreadable_media), str(exc))
    if not report.skipped:
        report.metrics["seconds"] = round(time.perf_counter() - started, 3)
    return report


def _fps(video: Path | None, ctx: ToolContext) -> tuple[float, float | None]:
    if video is None:
        return ctx.settings.video.fps, None
    try:
        probe = ffprobe_json(video, ctx.settings.video.ffprobe)
    except ToolError:
        return ctx.settings.video.fps, None
    stream = next((s for s in probe.get("streams", []) if s.get("codec_type") == "video"), {})
    num, _, den = str(stream.get("avg_frame_rate", "0/0")).partition("/")
    fps = float(num) / float(den) if den and float(den or 0) else ctx.settings.video.fps
    return fps or ctx.settings.video.fps, float(probe.get("format", {}).get("duration") or 0) or None


def _embedder(ctx: ToolContext):
    try:
        from tools.core.embeddings import get_embedder

        model = get_embedder(ctx.settings)
    except (ToolError, ImportError, OSError) as exc:
        ctx.trace.event("quality.embeddings_unavailable", error=str(exc)[:200])
        return None
    return model.encode


def _audio_and_speech(ctx: ToolContext, video: Path, lines: list[LineWindow], names: list[str]) -> list[ScoreReport]:
    """One audio decode for both: levels of the mix, and each line heard back."""
    s = ctx.settings
    try:
        samples = decode_mono(video, s.video.ffmpeg)
    except ToolError as exc:
        samples, error = None, exc
    audio = guarded("audio", lambda: score_audio(video, s.quality, lines, s.video.ffmpeg, s.video.ffprobe,
                                                 samples=samples))
    if not lines:
        return [audio, ScoreReport.skip("speech", "no voiced lines to hear")]
    if samples is None:
        return [audio, ScoreReport.failure("speech", Code.unreadable_media, str(error))]
    return [audio, guarded("speech", lambda: score_speech(samples, lines, s, names))]


def _content(ctx: ToolContext, lines: list[LineWindow], script_lines: list[tuple[str, str]], request: str,
             scene: SceneContext) -> list[ScoreReport]:
    q = ctx.settings.quality
    if scene.scene is None:
        why = "no scene given (the result is not cut from a film scene)"
        return [ScoreReport.skip("scene_fit", why), ScoreReport.skip("request_fit", why)]
    embed = _embedder(ctx)
    scenes = scene.scenes or [scene.scene]
    fit = guarded("scene_fit", lambda: score_scene_fit(request, scene.scene, scenes, scene.timeline, q, embed,
                                                       scene.match_scores, extend=scene.extend))
    if not script_lines:
        return [fit, ScoreReport.skip("request_fit", "no script lines given")]
    request_fit = guarded("request_fit", lambda: score_request_fit(
        script_lines, request, scene.scene, scenes, scene.known_names, q, embed, title=scene.title,
        film_transcript=scene.film_transcript, known_text=scene.known_text))
    return [fit, request_fit]


def _comedy(ctx: ToolContext, lines: list[LineWindow], scene: SceneContext, reports: list[ScoreReport]) -> ScoreReport:
    """The comedy check, with the judge's verdict on funniness when a capable judge ran (else it says so)."""
    if scene.comedy is None:
        return ScoreReport.skip("comedy", "no scene facts given (not a parody)")
    heard = [(ln.text, ln.start, ln.end) for ln in lines]
    report = guarded("comedy", lambda: score_comedy(scene.comedy.planned or heard, scene.comedy))
    judged = next((r for r in reports if r.scorer == "script" and not r.skipped), None)
    why = judge_unavailable(ctx.settings, ctx.llm)
    if judged is not None:
        jokes = judged.metrics.get("joke_share")  # None: the judge's joke answers failed its planted controls
        report.metrics["funniness"] = jokes
        report.reasons.append(f"funniness judged by the model: {jokes:.0%} of the lines are jokes" if jokes is not None
                              else "funniness was not judged: the judge got its planted joke control lines wrong")
    else:
        report.metrics["funniness"] = None
        report.reasons.append(f"funniness was not judged: {why or 'the judge gave no verdict'}")
    return report


def _film_height(film: Path | None, ffprobe: str) -> int | None:
    """Height of the film a result is cut from (None when unknown or unreadable: the fixed bar applies)."""
    if film is None:
        return None
    try:
        return media_info(film, ffprobe).height
    except ToolError:
        return None


def evaluate(ctx: ToolContext, video: Path | None = None, target_duration: float | None = None,
             lines: list[LineWindow] | None = None, subtitles: Path | None = None, script: str = "",
             request: str = "", images: list[Path] | None = None, characters: str = "",
             identity: IdentityFn | None = None, scene: SceneContext | None = None,
             burned: bool = False) -> CombinedReport:
    """Score what was given; a scorer without input is skipped (and excluded from the weighted mean).
    `burned`: the subtitles are meant to be drawn in the picture (not only a side file)."""
    q, v = ctx.settings.quality, ctx.settings.video
    lines = lines or []
    scene = scene or SceneContext()
    names = [n.strip() for n in characters.split(",") if n.strip()] + scene.known_names
    script_lines = [(ln.speaker, ln.text) for ln in lines]
    reports: list[ScoreReport] = []
    # numpy's OpenBLAS shuts its thread pool down before every fork and starts it again on the next matrix
    # product; a scorer launching ffmpeg while another multiplies vectors can hang in that handover (seen as a
    # deadlock in the fork handler). The gate's products are small: one BLAS thread, and no pool to hand over.
    with threadpool_limits(limits=1, user_api="blas"), \
            ctx.progress.task("Evaluating quality", total=4) as task, ScopedThreadPool(max_workers=2) as pool:
        jobs = {}
        if video is not None:
            source_height = _film_height(scene.film, v.ffprobe)
            jobs["video"] = pool.submit(guarded, "video", lambda: score_video(video, q, target_duration, v.ffmpeg,
                                                                              v.ffprobe, source_height))
            jobs["audio"] = pool.submit(_audio_and_speech, ctx, video, lines, names)
        cues = None
        if subtitles is not None:
            fps, duration = _fps(video, ctx)
            texts = [ln.text for ln in lines]
            reports.append(guarded("subtitles", lambda: score_subtitles(subtitles, q, fps, texts, duration)))
            try:
                cues = load_subtitles(subtitles)
            except ToolError:
                cues = None  # the subtitle scorer reports it
        else:
            reports.append(ScoreReport.skip("subtitles", "no subtitle file given"))
        if video is not None and cues and burned:
            jobs["burned"] = pool.submit(guarded, "burned_subtitles", lambda: score_burned_subtitles(
                video, scene.film, cues, scene.timeline, ctx.settings))
        task.advance()
        reports += _content(ctx, lines, script_lines, request, scene)
        task.advance()
        script_text = script or "\n".join(f"{ln.speaker + ': ' if ln.speaker else ''}{ln.text}" for ln in lines)
        if script_text.strip():
            judged = [JudgedLine(speaker=ln.speaker, text=ln.text, start=ln.start, end=ln.end,
                                 on_screen=on_screen_at(scene.moments, ln.start, ln.end)) for ln in lines] or None
            reports.append(guarded("script", lambda: score_script(script_text, request, ctx.settings, ctx.llm,
                                                                  ctx.trace, judged, scene.facts)))
        else:
            reports.append(ScoreReport.skip("script", "no script given"))
        reports.append(guarded("images", lambda: score_images(list(images or []), q, identity)))
        reports.append(_comedy(ctx, lines, scene, reports))
        task.advance()
        if "video" in jobs:
            reports.insert(0, jobs["video"].result())
            reports[1:1] = jobs["audio"].result()
        else:
            reports[:0] = [ScoreReport.skip(k, "no video given") for k in ("video", "audio", "speech")]
        if "burned" in jobs:
            reports.append(jobs["burned"].result())
        else:
            why = ("no video given" if video is None else "no subtitle cues given" if not cues else
                   "the subtitles are a side file, not drawn in the picture")
            reports.append(ScoreReport.skip("burned_subtitles", why))
        task.advance()
    combined = combine(reports, q.weights, ctx.settings.agent.quality_threshold)
    ctx.trace.event("quality.score", score=combined.score, passed=combined.passed, blame=combined.blame,
                    codes=sorted({f.code.value for f in combined.findings}),
                    scorers={r.scorer: (None if r.skipped else r.score) for r in reports})
    return combined


def save_report(ctx: ToolContext, report: CombinedReport, name: str) -> str:
    out = ctx.workspace.unique_output(name, ".json", "quality")
    out.write_text(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False), encoding="utf-8")
    return ctx.workspace.relative(out)


@tool(family="quality")
def evaluate_media(ctx: ToolContext, video: InputPath | None = None, target_duration: float | None = None,
                   lines: list[LineWindow] | None = None, subtitles: InputPath | None = None,
                   script: str = "", request: str = "", images: list[str] | None = None,
                   characters: str = "", burned_subtitles: bool = False) -> EvaluationResult:
    """Score a result: video (duration, A/V sync, black/frozen stretches, resolution), audio (loudness,
    clipping, silence), speech (each line heard back with speech recognition and compared with its text),
    subtitles (timing rules, coverage, and whether they are drawn in the picture), script (LLM judge) and
    images (sharpness). Returns the combined score, whether it passes, and what to change (blame).

    Args:
        video: The rendered video to check.
        target_duration: The requested length in seconds.
        lines: The scripted lines with where they should be heard: [{text, start, end, speaker}].
        subtitles: An .srt or .ass file for the video.
        script: The script text (defaults to the lines).
        request: The user's request, for the judge.
        images: Generated images to check.
        characters: Character names, comma separated (set aside when hearing the lines; for the judge).
        burned_subtitles: The subtitles should be drawn in the picture: check each cue's frames (and read them
            back with OCR when tesseract is installed).
    """
    paths = [ctx.workspace.resolve_input(p) for p in images or []]
    report = evaluate(ctx, video, target_duration, lines, subtitles, script, request, paths, characters,
                      burned=burned_subtitles)
    rel = save_report(ctx, report, "quality")
    return EvaluationResult(report=report, report_path=rel,
                            artifacts=[Artifact(path=rel, kind="json", metadata={"score": report.score,
                                                                                 "passed": report.passed})])

