"""Result models of the scene analysis tools (easy to consume from code: seconds, paths, numbers)."""
from __future__ import annotations

from pydantic import BaseModel, Field

from tools.core.types import ToolResult


class ColorShare(BaseModel):
    name: str
    hex: str
    share: float = Field(ge=0.0, le=1.0)


class SceneDescriptors(BaseModel):
    """Measured while decoding; ratios are fractions of the frame area (0–1)."""

    brightness: float  # mean HSV value, 0 black – 1 white
    saturation: float
    contrast: float  # std of luma, 0–1
    dominant_colors: list[ColorShare] = Field(default_factory=list)
    water_ratio: float = 0.0  # blue-cyan pixels in the lower two thirds
    sky_ratio: float = 0.0  # light blue pixels in the top third
    vegetation_ratio: float = 0.0  # green pixels
    sand_ratio: float = 0.0  # pale yellow-beige pixels
    warm_ratio: float = 0.0  # saturated orange-amber pixels (sunset, fire)
    dark_ratio: float = 0.0  # nearly black pixels
    snow_ratio: float = 0.0  # white-grey unsaturated light pixels (snow, ice, fog, white clouds)
    lights_ratio: float = 0.0  # small bright warm points in a dark frame (windows, street lights)
    motion_energy: float = 0.0  # mean absolute luma change between consecutive frames (sampled), 0–1
    edge_density: float = 0.0  # share of edge pixels (busy detail: buildings, foliage)
    faces: int | None = None  # Haar-cascade face count on the keyframe; None when not run
    loudness_db: float | None = None  # RMS level of the scene's audio in dBFS; None without audio
    peak_db: float | None = None


class SceneLine(BaseModel):
    """A line said in a scene (source seconds), with its words' timings from the film's transcript."""

    start: float
    end: float
    text: str
    words: list[dict] = Field(default_factory=list)  # {start, end, text, probability}


class Scene(BaseModel):
    index: int
    start: float  # seconds
    end: float
    start_frame: int
    end_frame: int  # exclusive
    start_timecode: str
    end_timecode: str
    keyframe: str | None = None  # workspace-relative JPEG path
    keyframe_time: float | None = None
    descriptors: SceneDescriptors
    description: str = ""
    lines: list[SceneLine] = Field(default_factory=list)  # what is said in it (empty without a transcript)
    shots: list[int] = Field(default_factory=list)  # a found scene spanning several shots: their indices

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def transcript(self) -> str:
        return " ".join(line.text for line in self.lines)


class TranscriptInfo(BaseModel):
    """How the film's speech was (or was not) transcribed."""

    model: str = ""
    language: str = ""
    lines: int = 0
    cached: bool = False
    seconds: float = 0.0
    note: str = ""  # why there is no transcript, when there is none


class SceneList(ToolResult):
    film: str
    fps: float
    duration: float
    frames: int
    width: int
    height: int
    detector: str
    fingerprint: str
    cached: bool = False
    seconds: float = 0.0  # analysis wall time (0 when served from cache)
    scenes: list[Scene]
    transcript: TranscriptInfo | None = None

    def summary(self) -> str:
        head = f"{len(self.scenes)} scenes in {self.film.rsplit('/', 1)[-1]} ({self.duration:.1f}s"
        head += ", cached)" if self.cached else f", analysed in {self.seconds:.1f}s)"
        lines = [f"#{s.index} {s.start_timecode}–{s.end_timecode}: {s.description[:90]}" for s in self.scenes[:12]]
        more = [f"... +{len(self.scenes) - 12} more"] if len(self.scenes) > 12 else []
        return "\n".join([head, *lines, *more])


class SceneMatch(BaseModel):
    scene: Scene  # the found scene: the best shot widened to the shots that share its line or its look
    score: float  # what ranks: the best of the sight, speech and guide scores (position adds to it)
    sight: float = 0.0  # similarity of the query to what is seen (descriptors, VLM caption)
    speech: float = 0.0  # similarity of the query (or the line asked for) to a line said in it
    guide: float = 0.0  # similarity through the knowledge base's scene guide for this film
    position: float = 0.0  # the opening / the ending / a time the request named
    line: str | None = None  # the line said that matched
    why: str = ""


class SceneSearchResult(ToolResult):
    film: str
    query: str
    said: str = ""
    matches: list[SceneMatch]
    confidence: float = 1.0  # 0–1: how clearly the best is ahead of the other scenes
    margin: float = 0.0  # best score − runner-up score
    runner_up: SceneMatch | None = None
    ambiguous: bool = False  # the best is not clearly ahead: see `candidates`, ask the user
    candidates: list[SceneMatch] = Field(default_factory=list)  # when ambiguous: the top scenes, keyframes included
    transcript: TranscriptInfo | None = None
    excluded: list[int] = Field(default_factory=list)  # scenes an evaluation found wrong for the request

    def summary(self) -> str:
        if not self.matches:
            return f"no scenes in {self.film} for {self.query!r}"
        parts = [f"#{m.scene.index} {m.scene.start:.2f}-{m.scene.end:.2f}s score={m.score:.2f} ({m.why}): "
                 f"{(m.line or m.scene.description)[:80]}" for m in self.matches]
        head = f"best scenes for {self.query!r} (confidence {self.confidence:.2f}"
        head += f", runner-up #{self.runner_up.scene.index} {self.runner_up.score:.2f})" if self.runner_up else ")"
        if self.ambiguous:
            head += " — not clearly ahead: candidates " + ", ".join(
                f"#{c.scene.index} at {c.scene.start:.1f}s" for c in self.candidates)
        return head + ":\n" + "\n".join(parts)
