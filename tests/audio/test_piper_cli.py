"""The Piper backend against a stand-in `piper` executable that speaks the CLI's interface."""
from __future__ import annotations

import json
import sys

import pytest

import tools.audio.tts  # noqa: F401
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings.loader import settings_from_dict
from tools.core.workspace import Workspace

FAKE_PIPER = '''#!{python}
"""Stand-in for the piper CLI: --model M --output_file F --length_scale S, text on stdin."""
import argparse, json, math, struct, sys, wave
p = argparse.ArgumentParser()
p.add_argument("--model", required=True); p.add_argument("--output_file", required=True)
p.add_argument("--length_scale", type=float, default=1.0)
p.add_argument("--noise_scale", type=float); p.add_argument("--noise_w", type=float)
a = p.parse_args()
text = sys.stdin.read()
open(a.model + ".calls", "a").write(json.dumps({{"text": text, "length_scale": a.length_scale,
                                                "noise_scale": a.noise_scale, "noise_w": a.noise_w}}) + "\\n")
rate = 22050
n = int(rate * 0.05 * len(text) * a.length_scale)
with wave.open(a.output_file, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
    w.writeframes(b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * 200 * i / rate))) for i in range(n)))
'''


@pytest.fixture
def ctx(tmp_path):
    exe = tmp_path / "piper"
    exe.write_text(FAKE_PIPER.format(python=sys.executable))
    exe.chmod(0o755)
    model = tmp_path / "en_US-test-medium.onnx"
    model.write_bytes(b"onnx")
    (tmp_path / "en_US-test-medium.onnx.json").write_text(json.dumps({"inference": {"noise_scale": 0.5, "noise_w": 0.8}}))
    settings = settings_from_dict({"tts": {"backend": "piper", "piper_binary": str(exe), "piper_model": str(model)}})
    return make_context(settings, workspace=Workspace(tmp_path / "run"))


def test_piper_cli_backend(ctx, tmp_path):
    normal = invoke("synthesize_speech", {"text": "Hello there. Ahoy!"}, ctx)
    fast = invoke("synthesize_speech", {"text": "Hello there. Ahoy!", "speed": 2.0}, ctx)
    assert normal.ok and fast.ok, (normal.observation(), fast.observation())
    assert normal.result["backend"] == "piper" and len(normal.result["segments"]) == 2
    assert fast.result["duration"] < 0.6 * normal.result["duration"]
    calls = [json.loads(line) for line in (tmp_path / "en_US-test-medium.onnx.calls").read_text().splitlines()]
    assert [c["text"] for c in calls[:2]] == ["Hello there.", "Ahoy!"]
    assert calls[0]["length_scale"] == 1.0 and calls[-1]["length_scale"] == pytest.approx(2 ** -1.37, abs=1e-3)
    assert calls[0]["noise_scale"] == 0.5 and calls[0]["noise_w"] == 0.8  # the voice's own, from its .onnx.json


def test_piper_cli_gets_the_presets_and_emotions_noise(ctx, tmp_path):
    out = invoke("synthesize_speech", {"text": "Land ho!", "voice": "Narrator", "emotion": "excited"}, ctx)
    assert out.ok, out.observation()
    call = json.loads((tmp_path / "en_US-test-medium.onnx.calls").read_text().splitlines()[-1])
    narrator_noise, excited = 0.5, 1.3  # configs/characters.yaml, tools/audio/emotions.yaml
    assert call["noise_scale"] == pytest.approx(narrator_noise * excited, abs=1e-3)


def test_piper_with_a_missing_model_names_the_setting(tmp_path):
    settings = settings_from_dict({"tts": {"backend": "piper", "piper_model": str(tmp_path / "nope ü.onnx")}})
    out = invoke("synthesize_speech", {"text": "hi"}, make_context(settings, workspace=Workspace(tmp_path)))
    assert not out.ok and "not found" in out.error and "tts.piper_model" in (out.hint or "")
