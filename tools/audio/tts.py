"""synthesize_speech: clean text → sentences → backend → joined WAV with timings → pitch + loudness.

Each sentence is synthesised on its own, so every backend yields phrase timings (start/end of each
sentence in the final file) that subtitles can use directly.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field

from tools.audio.backends import SentenceRequest, SpeechBackend, make_backend
from tools.audio.text import clean_for_speech, split_sentences
from tools.audio.wavio import finish_audio, read_wav, resample, rms_dbfs, write_wav
from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.image.characters import VoicePreset, load_characters

Emotion = Literal["neutral", "happy", "excited", "sad", "angry", "scared", "calm", "whisper"]

# Prosody for backends that cannot act: (speed multiplier, semitones). GPT-SoVITS presets can
# instead carry one reference clip per emotion, which carries the tone far better.
EMOTION_PROSODY: dict[str, tuple[float, float]] = {
    "neutral": (1.0, 0.0), "happy": (1.06, 1.5), "excited": (1.15, 2.5), "sad": (0.88, -1.5),
    "angry": (1.08, -1.0), "scared": (1.12, 2.0), "calm": (0.94, -0.5), "whisper": (0.95, 0.0),
}


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

    def summary(self) -> str:
        who = self.character or self.voice
        return (f"{self.audio}: {self.duration:.2f}s of speech ({who}, {self.backend}, {len(self.segments)} "
                f"phrase(s), {self.emotion}) made in {self.seconds:.2f}s")


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
    emo_speed, emo_pitch = EMOTION_PROSODY.get(emotion, (1.0, 0.0))
    backend_name = preset.backend or cfg.backend
    if backend_name == "gptsovits" and emotion in preset.emotions:
        emo_speed, emo_pitch = 1.0, 0.0  # the emotion's own reference clip carries the tone
    total_speed = preset.speed * speed * emo_speed
    semitones = preset.pitch + pitch + emo_pitch
    engine = backend or make_backend(backend_name, ctx.settings)

    start = time.perf_counter()
    pieces: list[np.ndarray] = []
    segments: list[SpeechSegment] = []
    rate = 0
    offset = 0.0
    try:
        with ctx.progress.task(f"TTS ({engine.name}): {len(sentences)} sentence(s)", total=len(sentences)) as task:
            for sentence in sentences:
                samples, sr = read_wav(engine.synthesize(SentenceRequest(sentence, preset, total_speed, emotion)))
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
    raw = out.with_name(f".{out.stem}.raw.wav")
    write_wav(raw, np.concatenate(pieces), rate)
    try:
        _, _measured = finish_audio(raw, out, rate_in=rate, rate_out=cfg.sample_rate, semitones=semitones,
                                    loudness_lufs=cfg.loudness_lufs if cfg.normalize_loudness else None,
                                    ffmpeg=ctx.settings.video.ffmpeg)
    finally:
        raw.unlink(missing_ok=True)
    final, final_rate = read_wav(Path(out))
    duration = len(final) / final_rate
    scale = duration / offset if offset > 0 else 1.0  # resampling can shift the length by a few samples
    segments = [SpeechSegment(text=s.text, start=round(s.start * scale, 3), end=round(s.end * scale, 3))
                for s in segments]
    rel = ctx.workspace.relative(out)
    result = SpeechResult(
        audio=rel, duration=round(duration, 3), sample_rate=final_rate, backend=engine.name,
        voice=preset.voice, character=character, emotion=emotion, text=" ".join(sentences), segments=segments,
        loudness_lufs=cfg.loudness_lufs if cfg.normalize_loudness else None,
        seconds=round(time.perf_counter() - start, 3))
    meta = result.model_dump(mode="json", exclude={"artifacts", "audio"})
    meta.update(speed=round(total_speed, 3), pitch_semitones=round(semitones, 2))
    result.artifacts = [Artifact(path=rel, kind="audio", metadata=meta)]
    return result


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
        emotion: neutral, happy, excited, sad, angry, scared, calm or whisper.
        output_name: File name stem (saved under audio/).
    """
    if not math.isfinite(speed) or not math.isfinite(pitch):
        raise ToolError("speed and pitch must be finite numbers")
    return synthesize(ctx, text, voice=voice, speed=speed, pitch=pitch, emotion=emotion, output_name=output_name)
