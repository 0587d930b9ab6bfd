"""Typed parody script: what the LLM writes, what the timing rules repair, what the assembly reads.

Times in a script are seconds on the *footage timeline*: 0 is the first frame after the title card.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

EffectKind = Literal["freeze_frame", "zoom_punch_in", "speed_ramp", "sound_effect"]
SOUNDS = ("record_scratch", "boing", "whoosh", "rimshot", "sad_trombone", "ding")

# The title card that opens every parody; the footage timeline starts after it.
TITLE_CARD_S = 2.0


class ScriptLine(BaseModel):
    model_config = ConfigDict(extra="ignore")
    character: str = Field(description="who speaks, e.g. Narrator or a character name", max_length=40)
    text: str = Field(description="the spoken line, short", max_length=160)
    start: float = Field(0.0, description="seconds from the start of the scene footage")
    end: float = Field(0.0, description="seconds from the start of the scene footage")
    # Where the line came from: the model as written, the model's line shortened/split/re-timed, or the engine.
    source: Literal["model", "model_repaired", "engine"] = "engine"
    refers: list[str] = Field(default_factory=list)  # the scene facts it names: action, said, look, place, character


class ScriptEffect(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: EffectKind
    at: float = Field(0.0, description="seconds from the start of the scene footage")
    duration: float = Field(1.0, description="seconds")
    caption: str = Field("", description="caption text for a freeze frame", max_length=60)
    sound: str = Field("", description="sound effect name: " + ", ".join(SOUNDS))


class ParodyScript(BaseModel):
    """The LLM's answer (and the repaired script the other steps consume)."""

    model_config = ConfigDict(extra="ignore")
    title: str = Field(description="a short funny title", max_length=60)
    lines: list[ScriptLine] = Field(description="4 to 8 short spoken lines in order")
    effects: list[ScriptEffect] = Field(default_factory=list, description="0 to 3 comic editing effects")


class SaidLine(BaseModel):
    """A line said in the scene (film seconds), from the film's transcript."""

    model_config = ConfigDict(extra="ignore")
    text: str
    start: float = 0.0
    end: float = 0.0


class SceneRef(BaseModel):
    """The part of a found scene the parody tools need (a find_scene match's `scene` fits)."""

    model_config = ConfigDict(extra="ignore")
    index: int = 0
    start: float = Field(ge=0.0)
    end: float = Field(gt=0.0)
    description: str = ""
    keyframe: str | None = None
    lines: list[SaidLine] = Field(default_factory=list)  # what is said in it
    shots: list[int] = Field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start


class DraftLine(BaseModel):
    """A line as the model writes it: the slot it fills (0 = the next one, in order), who and what."""

    model_config = ConfigDict(extra="ignore")
    slot: int = Field(0, ge=0, le=12)
    character: str = Field("Narrator", max_length=24)
    text: str = Field(max_length=120)


class DraftEffect(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: EffectKind
    at: float = Field(0.0, description="seconds from the start of the footage")
    caption: str = Field("", max_length=40)


class ScriptDraft(BaseModel):
    """The compact schema the model fills (short, so a small local model answers in seconds); timing and
    sizing are the engine's (tools/parody/model_lines.py)."""

    model_config = ConfigDict(extra="ignore")
    title: str = Field("", max_length=50)
    lines: list[DraftLine] = Field(default_factory=list, max_length=10)
    effects: list[DraftEffect] = Field(default_factory=list, max_length=2)
