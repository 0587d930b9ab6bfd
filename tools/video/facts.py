"""Tool `film_facts`: measurable answers about a film from its scene analysis.

"How many scenes", "which is the darkest / loudest / longest", ... are read from the descriptors
`detect_scenes` measures (brightness, RMS loudness, motion, duration), so the answer is a fact
about the user's film with times and keyframes, not a guess of the language model.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal

from pydantic import BaseModel

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.video.models import Scene
from tools.video.scenes import scene_list

Aspect = Literal["count", "darkest", "brightest", "loudest", "quietest", "longest", "shortest",
                 "most_motion", "least_motion"]
ASPECTS: tuple[str, ...] = Aspect.__args__  # type: ignore[attr-defined]

# aspect → (words for the answer, the measure, True when the largest value wins, unit)
_MEASURES: dict[str, tuple[str, Callable[[Scene], float | None], bool, str]] = {
    "darkest": ("darkest", lambda s: s.descriptors.brightness, False, "brightness"),
    "brightest": ("brightest", lambda s: s.descriptors.brightness, True, "brightness"),
    "loudest": ("loudest", lambda s: s.descriptors.loudness_db, True, "dBFS"),
    "quietest": ("quietest", lambda s: s.descriptors.loudness_db, False, "dBFS"),
    "longest": ("longest", lambda s: s.duration, True, "s"),
    "shortest": ("shortest", lambda s: s.duration, False, "s"),
    "most_motion": ("most animated (most motion)", lambda s: s.descriptors.motion_energy, True, "motion"),
    "least_motion": ("stillest (least motion)", lambda s: s.descriptors.motion_energy, False, "motion"),
}


class SceneFact(BaseModel):
    aspect: str
    scene: int  # index as listed by detect_scenes
    start: float
    end: float
    value: float
    unit: str
    keyframe: str | None = None
    description: str = ""


class FilmFacts(ToolResult):
    film: str
    duration: float
    scene_count: int
    facts: list[SceneFact]
    missing: list[str] = []  # aspects the film cannot answer (e.g. loudness without an audio track)
    answer: str

    def summary(self) -> str:
        return self.answer


def _clock(seconds: float) -> str:
    m, s = divmod(max(0.0, seconds), 60)
    return f"{int(m)}:{s:04.1f}"


def _fact(aspect: str, scenes: list[Scene]) -> SceneFact | None:
    _, measure, largest, unit = _MEASURES[aspect]
    measured = [(measure(s), s) for s in scenes if measure(s) is not None]
    if not measured:
        return None
    # Ties go to the earlier scene: stable and easy to check against the scene list.
    value, scene = (max if largest else min)(measured, key=lambda vs: vs[0])
    return SceneFact(aspect=aspect, scene=scene.index, start=scene.start, end=scene.end, value=round(value, 4),
                     unit=unit, keyframe=scene.keyframe, description=scene.description)


def _sentence(fact: SceneFact) -> str:
    words = _MEASURES[fact.aspect][0]
    value = f"{fact.value:.1f} {fact.unit}" if fact.unit in ("dBFS", "s") else f"{fact.unit} {fact.value:.2f}"
    return (f"The {words} scene is #{fact.scene} ({_clock(fact.start)}–{_clock(fact.end)}, {value})"
            + (f": {_gist(fact.description)}" if fact.description else "") + ".")


def _gist(description: str) -> str:
    """The first two clauses of a scene description ("dark night scene, low light")."""
    return "; ".join(c.strip() for c in description.split(";")[:2] if c.strip())


@tool(family="video")
def film_facts(ctx: ToolContext, film: InputPath, aspects: list[Aspect] | None = None) -> FilmFacts:
    """Answer measurable questions about a film from its scene analysis: how many scenes, and which scene is
    the darkest, brightest, loudest, quietest, longest, shortest, most or least animated (times, keyframes).

    Args:
        film: The video file.
        aspects: What to answer: count, darkest, brightest, loudest, quietest, longest, shortest,
            most_motion, least_motion. Empty = all of them (an overview of the film).
    """
    unknown = [a for a in aspects or [] if a not in ASPECTS]
    if unknown:
        raise ToolError(f"unknown aspects {unknown}", f"choose from {', '.join(ASPECTS)}")
    wanted = list(dict.fromkeys(aspects or ASPECTS))
    scenes = scene_list(ctx, film)
    if not scenes.scenes:
        raise ToolError(f"no scenes were found in {Path(film).name}", "is the video stream empty or a single frame?")
    facts: list[SceneFact] = []
    missing: list[str] = []
    lines = []
    if "count" in wanted:
        lines.append(f"{Path(film).name} has {len(scenes.scenes)} scenes in {_clock(scenes.duration)} "
                     f"(detected with PySceneDetect, {scenes.detector} detector).")
    for aspect in wanted:
        if aspect == "count":
            continue
        fact = _fact(aspect, scenes.scenes)
        if fact is None:
            missing.append(aspect)
            lines.append(f"I cannot tell the {_MEASURES[aspect][0]} scene: the film has no audio track.")
            continue
        facts.append(fact)
        lines.append(_sentence(fact))
    keyframes = {f.keyframe for f in facts if f.keyframe}
    artifacts = [Artifact(path=k, kind="image", metadata={"aspects": [f.aspect for f in facts if f.keyframe == k]})
                 for k in sorted(keyframes)]
    return FilmFacts(film=str(film), duration=scenes.duration, scene_count=len(scenes.scenes), facts=facts,
                     missing=missing, answer=" ".join(lines), artifacts=artifacts)
