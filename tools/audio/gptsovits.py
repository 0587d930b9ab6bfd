"""Client for GPT-SoVITS's HTTP API (`api_v2.py`): voice cloning from a short reference clip.

Endpoints used (GPT-SoVITS api_v2):
- POST /tts {text, text_lang, ref_audio_path, prompt_text, prompt_lang, speed_factor,
  streaming_mode, media_type, ...} → the audio bytes; failures → HTTP 400 {"message": ..., "Exception": ...}
- GET /set_gpt_weights?weights_path=...  and  GET /set_sovits_weights?weights_path=...
`ref_audio_path` is read by the server, so it must be a path the server can see (same machine or
a shared mount).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx

from tools.core.types import ToolError

# Weight switches reload models on the server (seconds): remember what each server has loaded.
_CURRENT_WEIGHTS: dict[tuple[str, str], str] = {}
_WEIGHTS_LOCK = threading.Lock()


class GPTSoVITSClient:
    def __init__(self, base_url: str, timeout_s: float = 60.0, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> GPTSoVITSClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ToolError(f"GPT-SoVITS at {self.base_url} did not answer within {self.timeout_s:g}s",
                            "the server may still be loading a model; raise tts.timeout_s or retry",
                            retryable=True) from exc
        except httpx.HTTPError as exc:
            raise ToolError(f"cannot reach GPT-SoVITS at {self.base_url} ({type(exc).__name__})",
                            "start it (python api_v2.py -a 127.0.0.1 -p 9880) or fix tts.gptsovits_url") from exc
        if response.status_code >= 400:
            raise ToolError(f"GPT-SoVITS {path} failed (HTTP {response.status_code}): {_error_message(response)}",
                            "check the reference clip, its transcript and the language codes")
        return response

    def set_weights(self, gpt_weights: Path | None = None, sovits_weights: Path | None = None) -> None:
        for kind, path in (("gpt", gpt_weights), ("sovits", sovits_weights)):
            if path is None:
                continue
            key = (self.base_url, kind)
            with _WEIGHTS_LOCK:
                if _CURRENT_WEIGHTS.get(key) == str(path):
                    continue
                self._request("GET", f"/set_{kind}_weights", params={"weights_path": str(path)})
                _CURRENT_WEIGHTS[key] = str(path)

    def tts(self, text: str, *, text_lang: str, ref_audio_path: Path, prompt_text: str = "",
            prompt_lang: str | None = None, speed_factor: float = 1.0, seed: int = -1) -> bytes:
        payload = {
            "text": text, "text_lang": text_lang, "ref_audio_path": str(ref_audio_path),
            "prompt_text": prompt_text, "prompt_lang": prompt_lang or text_lang,
            "speed_factor": speed_factor, "seed": seed, "text_split_method": "cut5",
            "streaming_mode": False, "media_type": "wav",
        }
        response = self._request("POST", "/tts", json=payload)
        kind = response.headers.get("content-type", "")
        if "json" in kind or not response.content:
            raise ToolError(f"GPT-SoVITS returned no audio: {_error_message(response)}",
                            "check the server log")
        return response.content


def _error_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300] or "(empty answer)"
    if isinstance(data, dict):
        parts = [str(data.get("message", "")), str(data.get("Exception", "") or "")]
        return " - ".join(p for p in parts if p)[:300] or str(data)[:300]
    return str(data)[:300]
