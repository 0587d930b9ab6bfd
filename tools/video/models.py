"""Result models of the scene analysis tools (easy to consume from code: seconds, paths, numbers)."""
from __future__ import annotations

from pydantic import BaseModel, Field

from tools.core.types import ToolResult


def timecode(seconds: float) -> str:
    """`HH:MM:SS.mmm` (the form ffmpeg and PySceneDetect print)."""
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


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
    lights_ratio: float = 0.0  # small bright warm points in a dark frame (windows, street lights)
    motion_energy: float = 0.0  # mean absolute luma change between consecutive frames (sampled), 0–1
    edge_density: float = 0.0  # share of edge pixels (busy detail: buildings, foliage)
    faces: int | None = None  # Haar-cascade face count on the keyframe; None when not run
    loudness_db: float | None = None  # RMS level of the scene's audio in dBFS; None without audio
    peak_db: float | None = None


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

    @property
    def duration(self) -> float:
        return self.end - self.start


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

    def summary(self) -> str:
        head = f"{len(self.scenes)} scenes in {self.film.rsplit('/', 1)[-1]} ({self.duration:.1f}s"
        head += ", cached)" if self.cached else f", analysed in {self.seconds:.1f}s)"
        lines = [f"#{s.index} {s.start_timecode}–{s.end_timecode}: {s.description[:90]}" for s in self.scenes[:12]]
        more = [f"... +{len(self.scenes) - 12} more"] if len(self.scenes) > 12 else []
        return "\n".join([head, *lines, *more])


class SceneMatch(BaseModel):
    scene: Scene
    score: float  # cosine similarity of the query to the scene description


class SceneSearchResult(ToolResult):
    film: str
    query: str
    matches: list[SceneMatch]

    def summary(self) -> str:
        if not self.matches:
            return f"no scenes in {self.film} for {self.query!r}"
        parts = [f"#{m.scene.index} {m.scene.start:.2f}-{m.scene.end:.2f}s score={m.score:.2f}: "
                 f"{m.scene.description[:80]}" for m in self.matches]
        return f"best scenes for {self.query!r}:\n" + "\n".join(parts)
