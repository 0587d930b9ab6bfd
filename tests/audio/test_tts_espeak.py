"""synthesize_speech with the real espeak-ng + ffmpeg: real audio, plausible durations, presets."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import tools.audio.tts  # noqa: F401  (registers the tool)
from tools.audio.wavio import finish_audio, read_wav
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings.loader import load_settings, settings_from_dict
from tools.core.workspace import Workspace
from tools.media.character_presets import load_characters
from tools.media.wav import write_wav

LINE = "The gull stole my chips again, and the captain laughed at me."  # 12 words


@pytest.fixture
def ctx(tmp_path):
    return make_context(settings_from_dict({"tts": {"backend": "espeak"}}), workspace=Workspace(tmp_path / "run ü"))


def speak(ctx, **args) -> dict:
    out = invoke("synthesize_speech", args, ctx)
    assert out.ok, out.observation()
    return out.result


def loudness(path: Path) -> float:
    proc = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
                          capture_output=True, text=True, check=True)
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", proc.stderr)[-1])


def test_espeak_speech_is_real_audio_with_plausible_duration(ctx):
    res = speak(ctx, text=LINE)
    path = ctx.workspace.root / res["audio"]
    samples, rate = read_wav(path)
    assert rate == 24000 and res["sample_rate"] == 24000
    assert abs(len(samples) / rate - res["duration"]) < 0.01
    assert 2.0 < res["duration"] < 7.0  # 12 words at ~175 wpm ≈ 4 s
    assert np.sqrt(np.mean(samples**2)) > 0.02  # not silent
    assert abs(loudness(path) - (-16.0)) < 1.0  # EBU R128 target from tts.loudness_lufs
    short = speak(ctx, text="The gull stole my chips.")
    assert short["duration"] < 0.7 * res["duration"]  # scales with text length
    assert abs(loudness(ctx.workspace.root / short["audio"]) - (-16.0)) < 1.0  # short lines too (< 3 s)


def test_speed_changes_duration(ctx):
    normal = speak(ctx, text=LINE)["duration"]
    fast = speak(ctx, text=LINE, speed=1.8)["duration"]
    slow = speak(ctx, text=LINE, speed=0.6)["duration"]
    assert fast < 0.75 * normal < normal < 0.8 * slow


def test_phrase_timings_follow_the_sentences(ctx):
    res = speak(ctx, text="PIP: Hello, Captain! (laughs) Can I have a fish? 🐟 Please.")
    assert [s["text"] for s in res["segments"]] == ["Hello, Captain!", "Can I have a fish?", "Please."]
    ends = [0.0] + [s["end"] for s in res["segments"]]
    for prev_end, seg in zip(ends, res["segments"]):
        assert prev_end <= seg["start"] < seg["end"]
    assert res["segments"][-1]["end"] <= res["duration"] + 0.01
    assert res["text"] == "Hello, Captain! Can I have a fish? Please."


def test_character_presets_and_shipped_characters_file(ctx):
    shipped = load_characters(load_settings())
    assert {"narrator", "pip", "captain brine", "gull", "luca", "alberto", "giulia"} <= set(shipped)
    res = speak(ctx, text="Hello!", voice="Captain Brine")
    meta = invoke("synthesize_speech", {"text": "Hi!", "voice": "Gull", "pitch": 1.0}, ctx).artifacts[0].metadata
    assert res["character"] == "Captain Brine" and res["voice"] == "en-gb-scotland"
    assert meta["pitch_semitones"] == 7.0 and meta["speed"] == 1.25  # preset + call
    for preset in shipped.values():  # every shipped espeak voice exists
        if (preset.voice.backend or "espeak") == "espeak":
            assert speak(ctx, text="Ahoy.", voice=preset.name)["duration"] > 0.2


def test_bad_input_is_a_clear_error(ctx):
    cases = [({"text": "(laughs) 🐟 [beat]"}, "nothing speakable"), ({"text": "hi", "voice": "xx-nope"}, "voice"),
             ({"text": "hi", "voice": "--help"}, "invalid espeak voice"), ({"text": "hi", "speed": 5}, "speed"),
             ({"text": "hi", "emotion": "smug"}, "emotion"), ({"text": "x" * 6000}, "tts.max_chars")]
    for args, text in cases:
        out = invoke("synthesize_speech", args, ctx)
        assert not out.ok and text in out.error, (args, out.error)


def _tone(freq: float, seconds: float, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def test_pitch_shift_is_in_semitones_and_keeps_duration(tmp_path):
    src = write_wav(tmp_path / "tone.wav", _tone(220.0, 1.0), 16000)
    for semitones, expected in ((12.0, 440.0), (-12.0, 110.0), (7.0, 220 * 2 ** (7 / 12))):
        out, _ = finish_audio(src, tmp_path / f"s{semitones}.wav", rate_in=16000, rate_out=16000,
                              semitones=semitones, loudness_lufs=None)
        samples, rate = read_wav(out)
        assert abs(len(samples) / rate - 1.0) < 0.03
        assert abs(_peak_hz(samples, rate) - expected) < expected * 0.03


def test_silence_is_not_normalised_into_noise(tmp_path):
    src = write_wav(tmp_path / "quiet.wav", np.zeros(16000, dtype=np.float32), 16000)
    out, measured = finish_audio(src, tmp_path / "out.wav", rate_in=16000, rate_out=24000, loudness_lufs=-16.0)
    samples, rate = read_wav(out)
    assert measured is None and rate == 24000 and np.abs(samples).max() < 1e-3
