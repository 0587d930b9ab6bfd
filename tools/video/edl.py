"""The edit decision list: a pydantic model that code and LLMs can both write (JSON in, clear errors out).

    EDL(clips=[Clip(source="film.mp4", start=12.0, end=15.5),
               TitleCard(text="Meanwhile…", duration=1.5, transition=Transition(duration=0.4)),
               Clip(source="film.mp4", start=40, end=42, speed=0.5, zoom=Zoom(factor=1.6))],
        overlays=[TextOverlay(text="SPLASH!", start=1, end=2.5, position="top")],
        subtitles=[SubtitleLine(text="Silenzio, Bruno!", start=0.5, end=2.0)],
        audio=[AudioTrack(source="voice.wav", at=0.4), AudioTrack(effect="boing", at=3.0)])

Times: `start`/`end` of clips are seconds in the *source*; `at`, overlay and subtitle times are
seconds on the *output timeline*. A transition belongs to the clip it leads into.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.media.safe_text import AssColour, Colour, ScreenText
from tools.video.sfx import EFFECTS

Position = Literal["top", "center", "bottom", "top-left", "top-right", "bottom-left", "bottom-right"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # NaN/inf times never reach ffmpeg


class Point(_Model):
    """A position as fractions of the free space: (0, 0) top-left, (1, 1) bottom-right."""

    x: float = Field(0.5, ge=0.0, le=1.0)
    y: float = Field(0.5, ge=0.0, le=1.0)


class TextStyle(_Model):
    size: float = Field(0.075, gt=0.0, le=0.5, description="font size as a fraction of the video height")
    bold: bool = True
    color: Colour = "white"
    border_color: Colour = "black"
    border: float = Field(0.08, ge=0.0, le=0.5, description="outline width as a fraction of the font size")
    box: bool = False
    box_color: Colour = "black@0.55"


class Transition(_Model):
    kind: Literal["fade", "dissolve", "fadeblack", "fadewhite", "wipeleft", "wiperight", "slideleft",
                  "slideright", "circleopen", "circleclose", "radial", "pixelize"] = "fade"
    duration: float = Field(0.5, gt=0.0, le=5.0)


class Zoom(_Model):
    """Punch-in: crop towards (x, y) by `factor`; `ramp` > 0 zooms in smoothly over that many seconds."""

    factor: float = Field(1.5, ge=1.0, le=5.0)
    x: float = Field(0.5, ge=0.0, le=1.0)
    y: float = Field(0.5, ge=0.0, le=1.0)
    ramp: float = Field(0.0, ge=0.0)


class Clip(_Model):
    kind: Literal["clip"] = "clip"
    source: str
    start: float = Field(0.0, ge=0.0)
    end: float | None = Field(None, description="out point in the source; None = to its end")
    speed: float = Field(1.0, ge=0.25, le=4.0, description="2.0 = twice as fast")
    zoom: Zoom | None = None
    audio: bool = True
    gain_db: float = Field(0.0, ge=-60.0, le=24.0)
    transition: Transition | None = None

    @model_validator(mode="after")
    def _range(self) -> Clip:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"clip of {self.source!r}: end ({self.end}s) must be after start ({self.start}s) — "
                             "a zero-length or reversed clip")
        return self


class FreezeFrame(_Model):
    kind: Literal["freeze"] = "freeze"
    source: str
    at: float = Field(ge=0.0, description="the source time of the frame to hold")
    duration: float = Field(gt=0.0, le=60.0)
    zoom: Zoom | None = None
    transition: Transition | None = None


class TitleCard(_Model):
    kind: Literal["title"] = "title"
    text: ScreenText = Field(min_length=1, max_length=500)
    duration: float = Field(2.0, gt=0.0, le=60.0)
    background: Colour = "black"
    style: TextStyle = Field(default_factory=lambda: TextStyle(size=0.1))
    transition: Transition | None = None


Segment = Annotated[Clip | FreezeFrame | TitleCard, Field(discriminator="kind")]


class TextOverlay(_Model):
    text: ScreenText = Field(min_length=1, max_length=500)
    start: float = Field(ge=0.0)
    end: float
    position: Position | Point = "bottom"
    style: TextStyle = Field(default_factory=TextStyle)
    fade: float = Field(0.2, ge=0.0, le=5.0)

    @model_validator(mode="after")
    def _range(self) -> TextOverlay:
        if self.end <= self.start:
            raise ValueError(f"overlay {self.text[:30]!r}: end ({self.end}s) must be after start ({self.start}s)")
        return self


class SubtitleLine(_Model):
    text: ScreenText = Field(min_length=1, max_length=2000)
    start: float = Field(ge=0.0)
    end: float

    @model_validator(mode="after")
    def _range(self) -> SubtitleLine:
        if self.end <= self.start:
            raise ValueError(f"subtitle {self.text[:30]!r}: end ({self.end}s) must be after start ({self.start}s)")
        return self


class SubtitleStyle(_Model):
    size: float = Field(0.06, gt=0.0, le=0.3, description="font size as a fraction of the video height")
    color: AssColour = "&H00FFFFFF"  # ASS colour &HAABBGGRR, or a name / #RRGGBB
    outline_color: AssColour = "&H00000000"
    outline: float = Field(2.0, ge=0.0, le=20.0)
    margin: float = Field(0.06, ge=0.0, le=0.4, description="bottom margin as a fraction of the height")
    bold: bool = False


class AudioTrack(_Model):
    """A sound placed on the timeline: a file (`source`) or a generated effect (`effect`)."""

    source: str | None = None
    effect: str | None = None
    at: float = Field(0.0, ge=0.0, description="timeline second where the sound starts")
    start: float = Field(0.0, ge=0.0, description="in point inside the source file")
    end: float | None = None
    duration: float | None = Field(None, gt=0.0, description="effect length (effects only)")
    role: Literal["voice", "music", "effect"] = "voice"
    gain_db: float = Field(0.0, ge=-60.0, le=24.0)
    fade_in: float = Field(0.0, ge=0.0)
    fade_out: float = Field(0.0, ge=0.0)

    @model_validator(mode="after")
    def _one_source(self) -> AudioTrack:
        if (self.source is None) == (self.effect is None):
            raise ValueError("an audio track needs exactly one of 'source' (a file) or 'effect' (a generated sound)")
        if self.effect is not None and self.effect not in EFFECTS:
            raise ValueError(f"unknown sound effect {self.effect!r}; choose one of {', '.join(sorted(EFFECTS))}")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"audio track {self.source!r}: end ({self.end}s) must be after start ({self.start}s)")
        return self


class Ducking(_Model):
    """Lower the original sound while voices play (ffmpeg sidechaincompress keyed by the voices)."""

    enabled: bool = True
    threshold: float = Field(0.02, gt=0.0, le=1.0)
    ratio: float = Field(10.0, ge=1.0, le=20.0)
    attack_ms: float = Field(15.0, ge=0.01, le=2000.0)
    release_ms: float = Field(350.0, ge=0.01, le=9000.0)


class EDL(_Model):
    clips: list[Segment] = Field(min_length=1)
    overlays: list[TextOverlay] = Field(default_factory=list)
    subtitles: list[SubtitleLine] = Field(default_factory=list)
    subtitle_style: SubtitleStyle = Field(default_factory=SubtitleStyle)
    audio: list[AudioTrack] = Field(default_factory=list)
    original_gain_db: float = Field(0.0, ge=-60.0, le=24.0)
    duck: Ducking = Field(default_factory=Ducking)
    fade_in: float = Field(0.0, ge=0.0, le=10.0)
    fade_out: float = Field(0.0, ge=0.0, le=10.0)
    loudness_lufs: float | None = Field(-16.0, ge=-40.0, le=-5.0, description="EBU R128 target; None = no normalisation")
    width: int | None = Field(None, ge=16, le=7680)
    height: int | None = Field(None, ge=16, le=4320)
    fps: float | None = Field(None, gt=0.0, le=120.0)
    output: str = "edit.mp4"

    @model_validator(mode="before")
    @classmethod
    def _default_kinds(cls, data: Any) -> Any:
        """Let JSON omit `kind`: a segment with `text` is a title card, with `at` a freeze, else a clip."""
        if isinstance(data, dict) and isinstance(data.get("clips"), list):
            clips = []
            for c in data["clips"]:
                if isinstance(c, dict) and "kind" not in c:
                    c = {**c, "kind": "title" if "text" in c else "freeze" if "at" in c else "clip"}
                clips.append(c)
            data = {**data, "clips": clips}
        return data

    @model_validator(mode="after")
    def _sizes(self) -> EDL:
        for name in ("width", "height"):
            value = getattr(self, name)
            if value is not None and value % 2:
                raise ValueError(f"{name} must be even for H.264 yuv420p (got {value})")
        return self
