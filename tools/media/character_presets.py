"""Character presets (configs/characters.yaml): how a character looks and how it sounds.

One file serves both generation families: `generate_character_image` reads the look (trigger
words, LoRA, negative prompt, reference images) and `synthesize_speech` reads the `voice`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError


class EmotionReference(BaseModel):
    """A reference clip that carries one emotion (GPT-SoVITS clones the tone of its reference)."""

    model_config = ConfigDict(extra="forbid")
    ref_audio: Path
    prompt_text: str = ""


class EqBand(BaseModel):
    """One filter of a voice's EQ (ffmpeg bass/treble/equalizer/highpass/lowpass)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["lowshelf", "highshelf", "peak", "highpass", "lowpass"]
    freq: float = Field(gt=20, lt=20000)
    gain_db: float = Field(0.0, ge=-24, le=24)
    q: float = Field(1.0, gt=0.05, le=10)


class VoicePreset(BaseModel):
    """How a character speaks. `pitch` is in semitones, `speed` a multiplier (1.0 = normal).

    One preset serves every backend: `voice` is the espeak-ng voice (used when espeak speaks) or a
    Piper .onnx; Piper reads `noise_scale`/`noise_w` (None → the voice's own) and `speaker`; pitch,
    speed and `eq` (named shapes from tools/audio/voice_shaping.py or explicit bands) apply to all.
    """

    model_config = ConfigDict(extra="forbid")
    backend: Literal["auto", "espeak", "gptsovits", "piper"] | None = None  # None → tts.backend
    voice: str = "en-us"  # espeak voice name; for piper an .onnx model path (else tts.piper_model)
    language: str = "en"
    pitch: float = Field(0.0, ge=-12, le=12)
    speed: float = Field(1.0, ge=0.3, le=3.0)
    noise_scale: float | None = Field(None, ge=0.0, le=2.0)  # Piper generator noise: expressiveness
    noise_w: float | None = Field(None, ge=0.0, le=2.0)  # Piper phoneme-duration noise: rhythm
    speaker: int | None = Field(None, ge=0)  # multi-speaker Piper voices
    eq: list[str | EqBand] = Field(default_factory=list)
    # Voice cloning (GPT-SoVITS): a 3–10 s clip of the character and its transcript.
    ref_audio: Path | None = None
    prompt_text: str = ""
    gpt_weights: Path | None = None
    sovits_weights: Path | None = None
    emotions: dict[str, EmotionReference] = Field(default_factory=dict)


class CharacterPreset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    trigger_words: list[str] = Field(default_factory=list)
    prompt: str = ""  # appearance words added to every prompt of this character
    negative_prompt: str = ""
    lora: str | None = None  # a name in configs/loras.yaml
    lora_weight: float | None = None  # None → the LoRA's default weight
    style_loras: list[str] = Field(default_factory=list)
    reference_images: list[Path] = Field(default_factory=list)
    voice: VoicePreset = Field(default_factory=VoicePreset)


def characters_path(settings) -> Path:
    return resolve_path(settings.image.characters_file)


def read_characters_file(settings) -> dict:
    """The characters file as a mapping ({} when it does not exist; an error when it is broken)."""
    path = characters_path(settings)
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ToolError(f"{path} is not valid YAML: {exc}", "fix the characters file") from exc
    return data if isinstance(data, dict) else {}


def load_characters(settings) -> dict[str, CharacterPreset]:
    """All presets keyed by lower-case name. A missing file is an empty set, a broken one an error."""
    path = characters_path(settings)
    entries = read_characters_file(settings).get("characters", []) or []
    out: dict[str, CharacterPreset] = {}
    for raw in entries:
        try:
            preset = CharacterPreset.model_validate(raw)
        except ValidationError as exc:
            name = raw.get("name", "?") if isinstance(raw, dict) else "?"
            raise ToolError(f"{path}: character {name!r} is invalid: {exc.errors()[0]['msg']}",
                            "fix the entry; see docs/generation.md for the fields") from exc
        out[preset.name.lower()] = preset
    return out


def get_character(settings, name: str) -> CharacterPreset:
    presets = load_characters(settings)
    key = name.strip().lower()
    if key not in presets:
        from difflib import get_close_matches

        close = get_close_matches(key, list(presets), n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"known characters: {sorted(presets) or 'none'}"
        raise ToolError(f"Unknown character {name!r}", f"{hint} (see {characters_path(settings)})")
    return presets[key]
