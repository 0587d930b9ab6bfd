"""The GPT-SoVITS client and backend against a loopback server speaking api_v2.py's HTTP API."""
from __future__ import annotations

import io
import json
import sys
import threading
import time
import wave
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
import yaml

import tools.audio.tts  # noqa: F401
from tools.audio import gptsovits
from tools.audio.gptsovits import GPTSoVITSClient
from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.settings.loader import settings_from_dict
from tools.core.types import ToolError
from tools.core.workspace import Workspace

RATE = 32000  # GPT-SoVITS v2 outputs 32 kHz


def _wav(seconds: float) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    pcm = (0.3 * np.sin(2 * np.pi * 180 * t) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(RATE), w.writeframes(pcm.tobytes())
    return buf.getvalue()


class FakeGPTSoVITS(BaseHTTPRequestHandler):
    """Speaks api_v2.py: POST /tts → wav; GET /set_*_weights; errors → 400 {"message", "Exception"}."""

    calls: list = []
    delay_s = 0.0

    def log_message(self, *args):  # keep test output clean
        pass

    def _json(self, code: int, data: dict) -> None:
        body = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.calls.append(("GET", url.path, query))
        if url.path in ("/set_gpt_weights", "/set_sovits_weights"):
            if not Path(query.get("weights_path", "")).is_file():
                return self._json(400, {"message": "change weights error", "Exception": "file not found"})
            return self._json(200, {"message": "success"})
        self._json(404, {"message": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(("POST", self.path, body))
        time.sleep(self.delay_s)
        if body.get("text_lang") not in {"en", "zh", "ja", "ko", "yue", "all_zh", "auto"}:
            return self._json(400, {"message": f"text_lang: {body.get('text_lang')} is not supported in version v2"})
        if not Path(body.get("ref_audio_path", "")).is_file():
            return self._json(400, {"message": "tts failed", "Exception": "ref_audio_path not found"})
        audio = _wav(0.06 * len(body["text"]) / body.get("speed_factor", 1.0))
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(audio)))
        self.end_headers()
        self.wfile.write(audio)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # the timeout test hangs up on purpose
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture
def server():
    FakeGPTSoVITS.calls, FakeGPTSoVITS.delay_s = [], 0.0
    httpd = QuietServer(("127.0.0.1", 0), FakeGPTSoVITS)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    gptsovits._CURRENT_WEIGHTS.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def ctx(server, tmp_path):
    for name in ("brine.wav", "brine_angry.wav", "brine.ckpt", "brine.pth"):
        (tmp_path / name).write_bytes(b"x")
    chars = tmp_path / "characters.yaml"
    chars.write_text(yaml.safe_dump({"characters": [{"name": "Captain Brine", "voice": {
        "backend": "gptsovits", "ref_audio": str(tmp_path / "brine.wav"), "prompt_text": "Arr, the sea is cruel.",
        "gpt_weights": str(tmp_path / "brine.ckpt"), "sovits_weights": str(tmp_path / "brine.pth"),
        "emotions": {"angry": {"ref_audio": str(tmp_path / "brine_angry.wav"), "prompt_text": "Get off my boat!"}},
    }}]}), encoding="utf-8")
    settings = settings_from_dict({"image": {"characters_file": str(chars)},
                                   "tts": {"gptsovits_url": server, "timeout_s": 2.0}})
    return make_context(settings, workspace=Workspace(tmp_path / "run"))


def test_cloned_voice_through_the_api(ctx, tmp_path):
    out = invoke("synthesize_speech", {"text": "Arr! Get off my boat. Now.", "voice": "Captain Brine", "speed": 1.2}, ctx)
    assert out.ok, out.observation()
    res = out.result
    assert res["backend"] == "gptsovits" and len(res["segments"]) == 3 and res["duration"] > 0.5
    posts = [c[2] for c in FakeGPTSoVITS.calls if c[0] == "POST"]
    assert [p["text"] for p in posts] == ["Arr!", "Get off my boat.", "Now."]
    first = posts[0]
    assert first["ref_audio_path"] == str(tmp_path / "brine.wav") and first["prompt_text"] == "Arr, the sea is cruel."
    assert (first["text_lang"], first["prompt_lang"], first["media_type"], first["streaming_mode"]) == ("en", "en", "wav", False)
    assert first["speed_factor"] == pytest.approx(1.2)
    gets = [(c[1], c[2]["weights_path"]) for c in FakeGPTSoVITS.calls if c[0] == "GET"]
    assert gets == [("/set_gpt_weights", str(tmp_path / "brine.ckpt")), ("/set_sovits_weights", str(tmp_path / "brine.pth"))]
    # a second line: the weights are already loaded on the server, no reload
    FakeGPTSoVITS.calls.clear()
    angry = invoke("synthesize_speech", {"text": "Get lost!", "voice": "Captain Brine", "emotion": "angry"}, ctx)
    assert angry.ok and not [c for c in FakeGPTSoVITS.calls if c[0] == "GET"]
    post = [c[2] for c in FakeGPTSoVITS.calls if c[0] == "POST"][0]
    assert post["ref_audio_path"] == str(tmp_path / "brine_angry.wav") and post["prompt_text"] == "Get off my boat!"


def test_server_errors_come_back_as_tool_errors(ctx, server, tmp_path):
    client = GPTSoVITSClient(server, timeout_s=2.0)
    with pytest.raises(ToolError, match="ref_audio_path not found"):
        client.tts("hi", text_lang="en", ref_audio_path=tmp_path / "missing.wav")
    with pytest.raises(ToolError, match="HTTP 400.*not supported"):
        client.tts("hi", text_lang="xx", ref_audio_path=tmp_path / "brine.wav")
    with pytest.raises(ToolError, match="change weights error"):
        client.set_weights(gpt_weights=tmp_path / "nope.ckpt")
    client.close()
    no_ref = replace(ctx, settings=settings_from_dict({"tts": {"backend": "gptsovits", "gptsovits_url": server}}))
    out = invoke("synthesize_speech", {"text": "hello", "voice": "en-us"}, no_ref)
    assert not out.ok and "reference clip" in out.error and "tts.gptsovits_ref_audio" in out.hint


def test_timeout_and_unreachable_server(ctx, server, tmp_path):
    FakeGPTSoVITS.delay_s = 1.0
    client = GPTSoVITSClient(server, timeout_s=0.3)
    with pytest.raises(ToolError, match="did not answer within 0.3s") as info:
        client.tts("hi", text_lang="en", ref_audio_path=tmp_path / "brine.wav")
    assert info.value.retryable and "tts.timeout_s" in info.value.hint
    dead = GPTSoVITSClient("http://127.0.0.1:9", timeout_s=1.0)  # discard port: nothing listens
    with pytest.raises(ToolError, match="cannot reach GPT-SoVITS") as info:
        dead.tts("hi", text_lang="en", ref_audio_path=tmp_path / "brine.wav")
    assert "tts.gptsovits_url" in info.value.hint
