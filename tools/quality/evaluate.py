"""The `evaluate_media` tool: run every scorer that has its input, combine by settings.quality.weights."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.ffmpeg import ffprobe_json
from tools.quality.av import LineWindow, score_audio, score_video
from tools.quality.images import IdentityFn, score_images
from tools.quality.judge import score_script
from tools.quality.report import CombinedReport, ScoreReport, combine
from tools.quality.subtitles import score_subtitles


class EvaluationResult(ToolResult):
    report: CombinedReport
    report_path: str = ""

    def summary(self) -> str:
        return self.report.summary()


def _guarded(scorer: str, fn: Callable[[], ScoreReport]) -> ScoreReport:
    """A scorer whose input is broken fails (with the reason) instead of aborting the whole evaluation."""
    try:
        return fn()
    except ToolError as exc:
        blame = {"video": "render", "audio": "render", "subtitles": "subtitles", "images": "images"}.get(scorer, scorer)
        return ScoreReport(scorer=scorer, score=0.0, passed=False, reasons=[str(exc)], blame=[blame])


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


def evaluate(ctx: ToolContext, video: Path | None = None, target_duration: float | None = None,
             lines: list[LineWindow] | None = None, subtitles: Path | None = None, script: str = "",
             request: str = "", images: list[Path] | None = None, characters: str = "",
             identity: IdentityFn | None = None) -> CombinedReport:
    """Score what was given; a scorer without input is skipped (and excluded from the weighted mean)."""
    q, v = ctx.settings.quality, ctx.settings.video
    lines = lines or []
    reports: list[ScoreReport] = []
    with ctx.progress.task("Evaluating quality", total=5) as task:
        if video is not None:
            reports.append(_guarded("video", lambda: score_video(video, q, target_duration, v.ffmpeg, v.ffprobe)))
            task.advance()
            reports.append(_guarded("audio", lambda: score_audio(video, q, lines, v.ffmpeg, v.ffprobe)))
        else:
            reports += [ScoreReport.skip("video", "no video given"), ScoreReport.skip("audio", "no video given")]
            task.advance()
        task.advance()
        if subtitles is not None:
            fps, duration = _fps(video, ctx)
            texts = [ln.text for ln in lines]
            reports.append(_guarded("subtitles", lambda: score_subtitles(subtitles, q, fps, texts, duration)))
        else:
            reports.append(ScoreReport.skip("subtitles", "no subtitle file given"))
        task.advance()
        script_text = script or "\n".join(f"{ln.speaker + ': ' if ln.speaker else ''}{ln.text}" for ln in lines)
        if script_text.strip():
            reports.append(score_script(script_text, request, ctx.settings, ctx.llm, characters, ctx.trace))
        else:
            reports.append(ScoreReport.skip("script", "no script given"))
        task.advance()
        reports.append(_guarded("images", lambda: score_images(list(images or []), q, identity)))
        task.advance()
    combined = combine(reports, q.weights, ctx.settings.agent.quality_threshold)
    ctx.trace.event("quality.score", score=combined.score, passed=combined.passed, blame=combined.blame,
                    scorers={r.scorer: (None if r.skipped else r.score) for r in reports})
    return combined


@tool(family="quality")
def evaluate_media(ctx: ToolContext, video: InputPath | None = None, target_duration: float | None = None,
                   lines: list[LineWindow] | None = None, subtitles: InputPath | None = None,
                   script: str = "", request: str = "", images: list[str] | None = None,
                   characters: str = "") -> EvaluationResult:
    """Score a result: video (duration, A/V sync, black/frozen stretches, resolution), audio (loudness,
    clipping, silence, speech in each line's window), subtitles (timing rules, coverage), script (LLM judge)
    and images (sharpness). Returns the combined score, whether it passes, and what to change (blame).

    Args:
        video: The rendered video to check.
        target_duration: The requested length in seconds.
        lines: The scripted lines with where they should be heard: [{text, start, end, speaker}].
        subtitles: An .srt or .ass file for the video.
        script: The script text (defaults to the lines).
        request: The user's request, for the judge.
        images: Generated images to check.
        characters: Short character notes for the judge.
    """
    paths = [ctx.workspace.resolve_input(p) for p in images or []]
    report = evaluate(ctx, video, target_duration, lines, subtitles, script, request, paths, characters)
    out = ctx.workspace.unique_output("quality", ".json", "quality")
    out.write_text(json.dumps(report.model_dump(mode="json"), indent=2), encoding="utf-8")
    rel = ctx.workspace.relative(out)
    return EvaluationResult(report=report, report_path=rel,
                            artifacts=[Artifact(path=rel, kind="json", metadata={"score": report.score,
                                                                                 "passed": report.passed})])
