"""Tools `detect_scenes` and `find_scene`: cached scene analysis and a searchable scene index."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tools.core.context import ToolContext
from tools.core.findings import Code, Finding, findings
from tools.core.prompts import PromptBook
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError
from tools.media.probe import media_info
from tools.video import cache
from tools.video.analysis import analyse, detector_params
from tools.video.describe import caption_with_vlm, describe_descriptors
from tools.video.models import Scene, SceneList, SceneMatch, SceneSearchResult
from tools.video.scene_search import cached_vectors, search_scenes
from tools.video.transcript import attach_lines, scene_transcript

PROMPTS = PromptBook.beside(__file__)


def _require_video(path: Path, vs, limits=None):
    info = media_info(path, vs.ffprobe, limits=limits)
    if not info.has_video or not info.width or not info.height:
        raise ToolError(f"{path.name} has no video stream", "detect_scenes needs a video file, not audio")
    return info


def scene_list(ctx: ToolContext, film: Path) -> SceneList:
    """Analyse `film` (or load the cached analysis) and copy keyframes into the run workspace."""
    vs = ctx.settings.video
    params = detector_params(vs)
    if vs.vlm_base_url:
        params["vlm"] = [vs.vlm_base_url, vs.vlm_model]
    info = _require_video(film, vs, ctx.settings.limits)
    fingerprint = cache.film_fingerprint(film, params)
    root = cache.cache_root(ctx.settings)
    data = cache.load_entry(root, fingerprint)
    cached = data is not None
    if data is None:
        with ctx.progress.task(f"scenes: {film.name}", total=max(1, round(info.duration * (info.fps or 25)))) as task:
            result = analyse(film, info, vs, task)
        for scene in result.scenes:
            scene.description = describe_descriptors(scene.descriptors, scene.duration)
        data = {"fps": result.fps, "frames": result.frames, "width": result.width, "height": result.height,
                "duration": result.duration, "seconds": result.seconds,
                "scenes": [s.model_dump() for s in result.scenes]}
        entry = cache.save_entry(root, fingerprint, data, result.keyframes)
        if vs.vlm_base_url:  # captions are cached with the entry (they cost a model call each)
            _caption_scenes(ctx, data, entry)
            cache.save_entry(root, fingerprint, data, {p.name: p.read_bytes() for p in (entry / "keyframes").glob("*.jpg")})
        ctx.trace.event("video.scenes", film=str(film), scenes=len(result.scenes), seconds=result.seconds)
    transcript, transcript_info = scene_transcript(ctx, film, data["duration"], bool(info.has_audio))
    folder = f"scenes/{_safe(film.stem)}_{fingerprint[:8]}"
    scenes = []
    artifacts = []
    for raw in data["scenes"]:
        scene = Scene.model_validate(raw)
        if scene.keyframe:
            src = root / fingerprint / "keyframes" / scene.keyframe
            dst = ctx.workspace.resolve_output(f"{folder}/{scene.keyframe}")
            if src.is_file() and not dst.exists():
                shutil.copyfile(src, dst)
            scene.keyframe = ctx.workspace.relative(dst) if dst.exists() else None
            if scene.keyframe:
                artifacts.append(Artifact(path=scene.keyframe, kind="image",
                                          metadata={"scene": scene.index, "time": scene.keyframe_time}))
        scenes.append(scene)
    if transcript is not None:
        attach_lines(scenes, transcript)
    return SceneList(film=str(film), fps=data["fps"], duration=data["duration"], frames=data["frames"],
                     width=data["width"], height=data["height"], detector=vs.detector, fingerprint=fingerprint,
                     cached=cached, seconds=0.0 if cached else data["seconds"], scenes=scenes, artifacts=artifacts,
                     transcript=transcript_info)


def _caption_scenes(ctx: ToolContext, data: dict, entry: Path) -> None:
    vs = ctx.settings.video
    with ctx.progress.task("scene captions", total=len(data["scenes"])) as task:
        for raw in data["scenes"]:
            if raw.get("keyframe"):
                caption = caption_with_vlm(entry / "keyframes" / raw["keyframe"], base_url=vs.vlm_base_url,
                                           model=vs.vlm_model, api_key_env=vs.vlm_api_key_env,
                                           timeout_s=vs.vlm_timeout_s, prompt=PROMPTS("scene_caption"))
                raw["description"] = f"{caption} ({raw['description']})"
            task.advance()


def _safe(text: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:40] or "film"


@tool(family="video")
def detect_scenes(ctx: ToolContext, film: InputPath) -> SceneList:
    """Split a film into shots (PySceneDetect) and describe each: time range, keyframe thumbnail, dominant
    colours, water/sky/vegetation ratios, brightness, motion, faces and loudness. Cached per film.

    Args:
        film: The video file (in the run folder, a media root, or a file you named for this run).
    """
    return scene_list(ctx, film)


def index_scenes(ctx: ToolContext, scenes: SceneList) -> np.ndarray:
    """Embed every scene description; push them into the knowledge base (kind "scenes") when present."""
    vectors = cached_vectors(ctx, scenes.fingerprint, "embeddings", [s.description for s in scenes.scenes])
    if ctx.knowledge is not None:
        film_name = Path(scenes.film).name
        docs = [{"id": f"scene:{scenes.fingerprint}:{s.index}",
                 "text": s.description + (f". Said: {s.transcript}" if s.lines else ""),
                 "metadata": {"film": film_name, "scene": s.index, "start": s.start, "end": s.end,
                              "keyframe": s.keyframe or "", "fingerprint": scenes.fingerprint}}
                for s in scenes.scenes]
        try:
            ctx.knowledge.add_documents("scenes", docs)
        except Exception as exc:  # the index is a bonus; the search below does not depend on it
            ctx.trace.event("video.index_failed", film=film_name, error=repr(exc))
    return vectors


def apply_scene_feedback(result: SceneSearchResult, feedback: list[Finding], top_k: int) -> SceneSearchResult:
    """A redo after an evaluation found the scene wrong for the request: every scene it blamed (in any iteration)
    is dropped, and the scenes its latest finding found closer to the request come first, then the search's
    own runner-up."""
    wrong = [f for f in feedback if f.code == Code.scene_mismatch and isinstance(f.data.get("scene"), int)]
    if not wrong:
        return result
    excluded = sorted({int(f.data["scene"]) for f in wrong})

    def shots(m: SceneMatch) -> set[int]:
        return set(m.scene.shots or [m.scene.index])

    kept = [m for m in result.matches if not shots(m) & set(excluded)]
    if not kept:  # every scene was found wrong: keep the search's own order rather than nothing
        return result.model_copy(update={"excluded": excluded})
    suggested = [int(i) for i in wrong[-1].data.get("candidates") or [] if isinstance(i, int)]
    first = next((m for i in suggested for m in kept if i in shots(m)), None)
    ranked = ([first] if first else []) + [m for m in kept if m is not first]
    if first is not None:
        ranked[0] = first.model_copy(update={"why": f"{first.why}; the evaluation found it closer to the request"})
    ranked = ranked[:top_k]
    runner_up = ranked[1] if len(ranked) > 1 else None
    margin = round(ranked[0].score - runner_up.score, 4) if runner_up else result.margin
    return result.model_copy(update={"matches": ranked, "runner_up": runner_up, "excluded": excluded,
                                     "margin": margin, "ambiguous": False, "candidates": []})


@tool(family="video")
def find_scene(ctx: ToolContext, film: InputPath, query: str, top_k: int = 3, said: str = "", position: str = "",
               at_s: float | None = None, feedback: list[Finding] | None = None) -> SceneSearchResult:
    """Find the scene of a film that the user means: by what is seen ("the snowy mountains"), by what is said
    ("the scene where she says she is searching for someone"), by the film's scene guide, by position (the
    opening, the ending) or time. Returns the best scenes with a confidence and the runner-up; when the best is
    not clearly ahead, `ambiguous` is true and `candidates` lists the top scenes with keyframes.

    Args:
        film: The video file to search.
        query: The scene in the user's own words.
        top_k: How many scenes to return, best first.
        said: A line said in the scene, when the user quoted or reported one.
        position: "opening" or "ending" when the user named the film's start or end.
        at_s: A time in seconds inside the scene, when the user named one.
        feedback: Findings of the evaluations so far: a scene found wrong for the request is not returned again, and
            the scenes they found closer to the request come first.
    """
    if not query.strip() and not said.strip():
        raise ToolError("query is empty", "describe the scene, e.g. 'the scene with the dragon'")
    if top_k < 1:
        raise ToolError("top_k must be at least 1")
    if position not in ("", "opening", "ending"):
        raise ToolError(f"position={position!r} is not one of opening, ending", "leave it empty otherwise")
    scenes = scene_list(ctx, film)
    if not scenes.scenes:
        return SceneSearchResult(film=str(film), query=query, said=said, matches=[], confidence=0.0,
                                 transcript=scenes.transcript)
    vectors = index_scenes(ctx, scenes)
    found = findings(feedback or [])
    extra = sum(f.code == Code.scene_mismatch for f in found)
    result = search_scenes(ctx, scenes, vectors, query or said, said=said, position=position, at_s=at_s,
                           top_k=top_k + 3 * extra)
    result = apply_scene_feedback(result, found, top_k)
    if result.excluded:
        ctx.trace.event("video.find_scene.redo", excluded=result.excluded,
                        chosen=[m.scene.index for m in result.matches])
    shown = {i for m in result.matches + result.candidates for i in (m.scene.shots or [m.scene.index])}
    result.artifacts = [a for a in scenes.artifacts if a.metadata.get("scene") in shown]
    ctx.trace.event("video.find_scene", query=query, said=said, best=result.matches[0].scene.index,
                    score=result.matches[0].score, confidence=result.confidence, margin=result.margin,
                    ambiguous=result.ambiguous)
    return result
