"""synthesize_speech: clean text → sentences → backend → joined WAV with timings → pitch, EQ + loudness.

Each sentence is synthesised on its own, so every backend yields phrase timings (start/end of each
sentence in the final file) that subtitles can use directly.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.audio.backends import SentenceRequest, SpeechBackend, make_backend, resolve_backend_name
from tools.audio.text import clean_for_speech, split_sentences
from tools.audio.voice_shaping import EmotionProsody, default_emotions, eq_filters, load_emotions
from tools.audio.wavio import finish_audio, read_wav, resample, rms_dbfs
from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.character_presets import VoicePreset, load_characters
from tools.media.wav import write_wav

# The emotions are the entries of tools/audio/emotions.yaml; the tool schema and the workflows take them from here.
Emotion = Literal[tuple(default_emotions())]  # type: ignore[valid-type]


class SpeechSegment(BaseModel):
    text: str
    start: float
    end: float


class SpeechResult(ToolResult):
    audio: str
    duration: float
    sample_rate: int
    backend: str
    voice: str
    character: str | None = None
    emotion: str = "neutral"
    text: str  # what was actually spoken, after cleaning
    segments: list[SpeechSegment] = Field(default_factory=list)  # phrase timings for subtitles
    loudness_lufs: float | None = None
    seconds: float = 0.0
    notes: list[str] = Field(default_factory=list)  # e.g. why espeak-ng stood in for Piper

    def summary(self) -> str:
        who = self.character or self.voice
        return (f"{self.audio}: {self.duration:.2f}s of speech ({who}, {self.backend}, {len(self.segments)} "
                f"phrase(s), {self.emotion}) made in {self.seconds:.2f}s"
                + (f"; {self.notes[0]}" if self.notes else ""))


def resolve_voice(settings, voice: str | None) -> tuple[VoicePreset, str | None]:
    """A character preset name, or a backend voice (espeak name / piper .onnx); None → tts.default_voice."""
    if voice:
        presets = load_characters(settings)
        if voice.strip().lower() in presets:
            preset = presets[voice.strip().lower()]
            return preset.voice, preset.name
    return VoicePreset(voice=voice or settings.tts.default_voice), None


def trim_silence(samples: np.ndarray, rate: int, threshold_db: float = -45.0, keep_s: float = 0.04) -> np.ndarray:
    """Cut leading/trailing silence (backends pad differently) so phrase timings hug the words."""
    if len(samples) == 0:
        return samples
    win = max(1, int(rate * 0.01))
    n = len(samples) // win
    if n == 0:
        return samples
    frames = samples[: n * win].reshape(n, win)
    loud = np.flatnonzero(20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-12) > threshold_db)
    if len(loud) == 0:
        return samples[:0]
    keep = int(rate * keep_s)
    return samples[max(0, loud[0] * win - keep): min(len(samples), (loud[-1] + 1) * win + keep)]


def synthesize(ctx: ToolContext, text: str, *, voice: str | None = None, speed: float = 1.0, pitch: float = 0.0,
               emotion: str = "neutral", output_name: str = "speech",
               backend: SpeechBackend | None = None) -> SpeechResult:
    cfg = ctx.settings.tts
    if len(text) > cfg.max_chars:
        raise ToolError(f"text is {len(text)} characters, more than tts.max_chars={cfg.max_chars}",
                        "split it into several calls (one per line of dialogue)")
    spoken = clean_for_speech(text)
    sentences = split_sentences(spoken)
    if not sentences:
        raise ToolError("nothing speakable in the text after removing markup, stage directions and emoji",
                        "give the words to say, e.g. 'Hello, Captain!'")
    preset, character = resolve_voice(ctx.settings, voice)
    prosody = load_emotions(ctx.settings).get(emotion, EmotionProsody())
    if backend is None:
        backend_name, notice = resolve_backend_name(preset.backend or cfg.backend, ctx.settings)
    else:
        backend_name, notice = backend.name, None
    if notice:
        ctx.trace.event("tts.fallback", backend=backend_name, notice=notice)
    if backend_name == "gptsovits" and emotion in preset.emotions:
        prosody = EmotionProsody()  # the emotion's own reference clip carries the tone
    total_speed = preset.speed * speed * prosody.speed
    semitones = preset.pitch + pitch + prosody.pitch
    shaping = eq_filters([*preset.eq, *prosody.eq])
    engine = backend or make_backend(backend_name, ctx.settings)

    start = time.perf_counter()
    pieces: list[np.ndarray] = []
    segments: list[SpeechSegment] = []
    rate = 0
    offset = 0.0
    try:
        with ctx.progress.task(f"TTS ({engine.name}): {len(sentences)} sentence(s)", total=len(sentences)) as task:
            for sentence in sentences:
                request = SentenceRequest(sentence, preset, total_speed, emotion,
                                          noise_scale_factor=prosody.noise_scale, noise_w_factor=prosody.noise_w)
                samples, sr = read_wav(engine.synthesize(request))
                rate = rate or sr
                samples = trim_silence(resample(samples, sr, rate), rate)
                if len(samples) == 0:
                    task.advance()
                    continue
                if pieces:
                    pause = np.zeros(int(rate * cfg.sentence_pause_s), dtype=np.float32)
                    pieces.append(pause)
                    offset += len(pause) / rate
                pieces.append(samples)
                segments.append(SpeechSegment(text=sentence, start=round(offset, 3),
                                              end=round(offset + len(samples) / rate, 3)))
                offset += len(samples) / rate
                task.advance()
    finally:
        close = getattr(getattr(engine, "client", None), "close", None)
        if backend is None and close:
            close()
    if not pieces or rms_dbfs(np.concatenate(pieces)) < -60:
        raise ToolError(f"the {engine.name} voice produced silence", "check the voice name/model and the text language")

    out = ctx.workspace.unique_output(output_name, ".wav", "audio")
    # Work files are hidden and renamed into place only when complete: a step killed midway and
    # resumed leaves no half-written WAV (a rerun reuses, and then removes, the same work names).
    raw, partial = out.with_name(f".{out.stem}.raw.wav"), out.with_name(f".{out.stem}.partial.wav")
    write_wav(raw, np.concatenate(pieces), rate)
    try:
        _, _measured = finish_audio(raw, partial, rate_in=rate, rate_out=cfg.sample_rate, semitones=semitones,
                                    filters=shaping, loudness_lufs=cfg.loudness_lufs if cfg.normalize_loudness else None,
                                    ffmpeg=ctx.settings.video.ffmpeg)
        os.replace(partial, out)
    finally:
        raw.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    final, final_rate = read_wav(Path(out))
    duration = len(final) / final_rate
    scale = duration / offset if offset > 0 else 1.0  # resampling can shift the length by a few samples
    segments = [SpeechSegment(text=s.text, start=round(s.start * scale, 3), end=round(s.end * scale, 3))
                for s in segments]
    rel = ctx.workspace.relative(out)
    result = SpeechResult(
        audio=rel, duration=round(duration, 3), sample_rate=final_rate, backend=engine.name,
        voice=_voice_name(engine.name, preset, ctx.settings), character=character, notes=[notice] if notice else [], emotion=emotion, text=" ".join(sentences), segments=segments,
        loudness_lufs=cfg.loudness_lufs if cfg.normalize_loudness else None,
        seconds=round(time.perf_counter() - start, 3))
    meta = result.model_dump(mode="json", exclude={"artifacts", "audio"})
    meta.update(speed=round(total_speed, 3), pitch_semitones=round(semitones, 2), eq=shaping)
    result.artifacts = [Artifact(path=rel, kind="audio", metadata=meta)]
    return result


def _voice_name(backend: str, preset: VoicePreset, settings) -> str:
    """What spoke: the Piper model's name, else the preset's voice (espeak name / GPT-SoVITS preset)."""
    if backend == "piper":
        from tools.audio.piper_voice import voice_model

        return voice_model(settings, preset).stem
    return preset.voice


@tool(family="audio", resources=("tts",))
def synthesize_speech(
    ctx: ToolContext,
    text: str,
    voice: str | None = None,
    speed: Annotated[float, Field(ge=0.5, le=2.0)] = 1.0,
    pitch: Annotated[float, Field(ge=-12.0, le=12.0)] = 0.0,
    emotion: Emotion = "neutral",
    output_name: str = "speech",
) -> SpeechResult:
    """Speak a line of dialogue or narration to a WAV file (loudness-normalised), with per-sentence timings.

    Args:
        text: The words to say. Stage directions like (laughs) or [beat], markup and emoji are removed.
        voice: A character preset (e.g. "Pip", "Captain Brine", "Narrator") or a backend voice (e.g. "en-us+f3").
        speed: Speaking rate multiplier (1.0 = the voice's normal rate).
        pitch: Pitch shift in semitones, added to the preset's own.
        emotion: How it is said (one of the listed emotions).
        output_name: File name stem (saved under audio/).
    """
    if not math.isfinite(speed) or not math.isfinite(pitch):
        raise ToolError("speed and pitch must be finite numbers")
    return synthesize(ctx, text, voice=voice, speed=speed, pitch=pitch, emotion=emotion, output_name=output_name)
