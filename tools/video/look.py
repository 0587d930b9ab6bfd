"""Tool `look_at_scene`: answer a question about what a scene shows, by showing its pictures to a
vision model (an OpenAI-compatible endpoint, `video.vlm_base_url`).

What is on screen (who is there, what they wear or do) cannot be read from brightness or colour
measures; without a vision model the planner refuses with the setting to fill instead of guessing.
"""
from __future__ import annotations

from typing import Any

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError, ToolResult, Unmet
from tools.media.ffmpeg import require_binary, run_tool
from tools.media.probe import media_info
from tools.video.describe import caption_with_vlm

QUESTION = ("This is a frame from an animated film, at {at} into the part asked about. Answer from what the "
            "picture shows, in one or two sentences: {question}")


class SceneLook(ToolResult):
    question: str
    start: float
    end: float
    answers: list[dict[str, Any]]  # per frame: time, answer, frame (workspace path)
    answer: str

    def summary(self) -> str:
        return self.answer


def vlm_unmet(settings: Any, args: dict[str, Any]) -> list[Unmet]:
    if settings.video.vlm_base_url:
        return []
    return [Unmet(setting="video.vlm_base_url", problem="no vision model is configured to look at the film's pictures",
                  fix="set video.vlm_base_url to an OpenAI-compatible vision endpoint (a vLLM, Ollama or LM Studio "
                      "server with a VLM) and video.vlm_model to its model")]


@tool(family="video", requires=vlm_unmet)
def look_at_scene(ctx: ToolContext, film: InputPath, start: float, end: float, question: str,
                  frames: int = 3) -> SceneLook:
    """Answer a question about what a part of a film shows (who is there, what they wear or do, the place)
    by showing frames of it to the vision model at video.vlm_base_url.

    Args:
        film: The video file.
        start: Where the part starts, in seconds.
        end: Where it ends, in seconds.
        question: What to find out, in plain words.
        frames: How many frames to look at, spread over the part (1–5).
    """
    vs = ctx.settings.video
    if not vs.vlm_base_url:
        raise ToolError("no vision model: video.vlm_base_url is empty", "set video.vlm_base_url and video.vlm_model")
    if not 1 <= frames <= 5:
        raise ToolError(f"frames={frames} is out of range", "use 1–5")
    info = media_info(film, vs.ffprobe)
    end = min(end, info.duration)
    if not info.has_video or end <= start:
        raise ToolError(f"nothing to look at between {start:.2f}s and {end:.2f}s of {film.name}")
    ffmpeg = require_binary(vs.ffmpeg, "video.ffmpeg")
    step = (end - start) / (frames + 1)
    answers, artifacts = [], []
    with ctx.progress.task("looking at the scene", total=frames) as task:
        for i in range(1, frames + 1):
            at = start + i * step
            jpg = ctx.workspace.unique_output(f"look_{at:.1f}s", ".jpg", "frames")
            run_tool([ffmpeg, "-nostdin", "-v", "error", "-y", "-ss", f"{at:.3f}", "-i", str(film), "-frames:v", "1",
                      "-vf", "scale='min(768,iw)':-2", "-q:v", "3", str(jpg)], timeout=60, what="frame grab")
            text = caption_with_vlm(jpg, base_url=vs.vlm_base_url, model=vs.vlm_model, api_key_env=vs.vlm_api_key_env,
                                    timeout_s=vs.vlm_timeout_s,
                                    prompt=QUESTION.format(at=f"{at - start:.1f}s", question=question))
            rel = ctx.workspace.relative(jpg)
            answers.append({"time": round(at, 2), "answer": text, "frame": rel})
            artifacts.append(Artifact(path=rel, kind="image", metadata={"time": round(at, 2), "answer": text}))
            task.advance()
    answer = " ".join(f"At {a['time']:.1f}s: {a['answer']}" for a in answers)
    return SceneLook(question=question, start=start, end=end, answers=answers, answer=answer, artifacts=artifacts)
