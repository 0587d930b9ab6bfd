"""Voice shaping: emotions → prosody, and the EQ that turns one neural voice into several characters.

A single Piper voice becomes a cast through what each preset changes: phoneme length (speed), pitch
in semitones (ffmpeg asetrate + atempo, so formants move with it: higher reads smaller/younger,
lower reads bigger/older), Piper's generator and duration noise (how lively / how even the rhythm),
and an EQ. Emotions are relative changes on top of the preset (tools/audio/emotions.yaml; an
`emotions:` section in configs/characters.yaml overrides entries).
"""
from __future__ import annotations

import functools
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.core.types import ToolError
from tools.media.character_presets import EqBand, characters_path, read_characters_file

# Named EQ shapes a preset can list (`eq: [warm]`); explicit bands are accepted too.
EQ_SHAPES: dict[str, list[EqBand]] = {
    "warm": [EqBand(kind="lowshelf", freq=180, gain_db=3), EqBand(kind="highshelf", freq=5000, gain_db=-2)],
    "bright": [EqBand(kind="highshelf", freq=3500, gain_db=4)],
    "deep": [EqBand(kind="lowshelf", freq=120, gain_db=5), EqBand(kind="peak", freq=3000, gain_db=-2)],
    "thin": [EqBand(kind="highpass", freq=250), EqBand(kind="highshelf", freq=4000, gain_db=2)],
    "nasal": [EqBand(kind="highpass", freq=200), EqBand(kind="peak", freq=1100, gain_db=6, q=1.2)],
    "radio": [EqBand(kind="highpass", freq=350), EqBand(kind="lowpass", freq=3200),
              EqBand(kind="peak", freq=1500, gain_db=3)],
    "breathy": [EqBand(kind="highpass", freq=450), EqBand(kind="highshelf", freq=4000, gain_db=5)],
}


class EmotionProsody(BaseModel):
    """How an emotion changes a voice: speed and noise are factors, pitch is added semitones."""

    model_config = ConfigDict(extra="forbid")
    speed: float = Field(1.0, ge=0.5, le=2.0)
    pitch: float = Field(0.0, ge=-6, le=6)
    noise_scale: float = Field(1.0, ge=0.0, le=3.0)  # × the preset's Piper generator noise
    noise_w: float = Field(1.0, ge=0.0, le=3.0)  # × the preset's Piper duration noise
    eq: list[str | EqBand] = Field(default_factory=list)


EMOTIONS_FILE = Path(__file__).with_name("emotions.yaml")


@functools.lru_cache(maxsize=1)
def default_emotions() -> dict[str, EmotionProsody]:
    data = yaml.safe_load(EMOTIONS_FILE.read_text(encoding="utf-8")) or {}
    return {name: EmotionProsody.model_validate(fields or {}) for name, fields in data.items()}


def load_emotions(settings) -> dict[str, EmotionProsody]:
    """The default emotions, each overridable from the `emotions:` section of the characters file."""
    raw = read_characters_file(settings).get("emotions") or {}
    if not isinstance(raw, dict):
        raise ToolError(f"{characters_path(settings)}: `emotions` must map an emotion to its prosody")
    out = dict(default_emotions())
    for name, fields in raw.items():
        if name not in out:
            raise ToolError(f"{characters_path(settings)}: unknown emotion {name!r}",
                            f"use one of {', '.join(out)}")
        try:
            out[name] = EmotionProsody.model_validate(fields or {})
        except ValidationError as exc:
            raise ToolError(f"{characters_path(settings)}: emotion {name!r} is invalid: {exc.errors()[0]['msg']}",
                            "see docs/generation.md (Voices)") from exc
    return out


def eq_bands(eq: list[str | EqBand]) -> list[EqBand]:
    bands: list[EqBand] = []
    for item in eq:
        if isinstance(item, EqBand):
            bands.append(item)
        elif item.strip().lower() in EQ_SHAPES:
            bands += EQ_SHAPES[item.strip().lower()]
        else:
            raise ToolError(f"unknown voice EQ {item!r}", f"use one of {', '.join(EQ_SHAPES)} or explicit bands "
                            "({kind: lowshelf|highshelf|peak|highpass|lowpass, freq, gain_db, q})")
    return bands


def eq_filters(eq: list[str | EqBand]) -> list[str]:
    """ffmpeg audio filters for an EQ list (applied before loudness normalisation)."""
    out: list[str] = []
    for b in eq_bands(eq):
        if b.kind == "lowshelf":
            out.append(f"bass=g={b.gain_db:g}:f={b.freq:g}:w={b.q:g}")
        elif b.kind == "highshelf":
            out.append(f"treble=g={b.gain_db:g}:f={b.freq:g}:w={b.q:g}")
        elif b.kind == "peak":
            out.append(f"equalizer=f={b.freq:g}:t=q:w={b.q:g}:g={b.gain_db:g}")
        elif b.kind == "highpass":
            out.append(f"highpass=f={b.freq:g}")
        else:
            out.append(f"lowpass=f={b.freq:g}")
    return out
