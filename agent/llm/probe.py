"""`animstudio doctor`'s probe of an OpenAI-compatible endpoint: what it serves and supports, and how fast.

Five short requests (a few tokens each): the models listed, json_schema, json_object, tool calls and
streaming accepted, and tokens per second on a short prompt. What it finds about structured output is
written to the per-endpoint cache (agent/llm/capabilities.py), so the next run starts in a mode that works.
"""
from __future__ import annotations

import os
import time
from typing import Any

from agent.llm.capabilities import STRUCTURED_MODES, cache_for, names_format
from agent.llm.errors import LLMError
from agent.llm.http_client import ChatCompletionsClient

_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
           "additionalProperties": False}
_TOOL = {"type": "function", "function": {"name": "ping", "description": "Answer a ping.",
                                          "parameters": {"type": "object", "properties": {"reply": {"type": "string"}},
                                                         "required": ["reply"]}}}


def _try(client: ChatCompletionsClient, payload: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    try:
        return True, "", client.post("chat/completions", payload)
    except LLMError as exc:
        return False, exc.message[:200], {}


def probe_endpoint(base_url: str, model: str = "", api_key: str | None = None, *, timeout_s: float = 60.0,
                   cache=None) -> dict[str, Any]:
    """Models listed, json_schema / json_object / tools / streaming supported, tokens/s. Never raises."""
    client = ChatCompletionsClient(base_url, api_key, timeout_s=timeout_s, max_retries=0)
    out: dict[str, Any] = {"endpoint": base_url}
    try:
        listed = client.get("models")
    except LLMError as exc:
        client.close()
        return {**out, "reachable": False, "detail": exc.message[:200]}
    served = [m.get("id") for m in listed.get("data", []) if isinstance(m, dict) and m.get("id")]
    name = model or (served[0] if served else "")
    out.update(reachable=True, models=served[:10], model=name)
    ask = [{"role": "user", "content": 'Reply with the JSON object {"ok": true}.'}]
    base = {"model": name, "messages": ask, "max_tokens": 12, "temperature": 0}
    formats = {"json_schema": {"type": "json_schema", "json_schema": {"name": "probe", "schema": _SCHEMA, "strict": False}},
               "json_object": {"type": "json_object"}}
    for mode, fmt in formats.items():
        ok, error, _ = _try(client, {**base, "response_format": fmt})
        # Only a rejection that names the format means "unsupported"; other errors are reported as they are.
        out[mode] = ok if ok or names_format(error) else None
        if error:
            out[f"{mode}_error"] = error
    ok, error, data = _try(client, {**base, "messages": [{"role": "user", "content": "Call ping with reply pong."}],
                                    "max_tokens": 32, "tools": [_TOOL],
                                    "tool_choice": {"type": "function", "function": {"name": "ping"}}})
    calls = ((data.get("choices") or [{}])[0].get("message") or {}).get("tool_calls") if ok else None
    out["tools"] = bool(calls)
    if error:
        out["tools_error"] = error
    try:
        events = list(client.stream("chat/completions", {**base, "messages": [{"role": "user", "content": "Say hi."}],
                                                          "stream": True, "max_tokens": 8}))
        out["streaming"] = any(e.get("choices") for e in events)
    except LLMError as exc:
        out["streaming"], out["streaming_error"] = False, exc.message[:200]
    start = time.perf_counter()
    ok, error, data = _try(client, {**base, "messages": [{"role": "user", "content": "Count from one to twenty in words."}],
                                    "max_tokens": 48})
    seconds = time.perf_counter() - start
    tokens = (data.get("usage") or {}).get("completion_tokens") if ok else None
    out["tokens_per_s"] = round(tokens / seconds, 1) if tokens and seconds > 0 else None
    out["seconds"] = round(seconds, 2)
    client.close()
    best = next((m for m in STRUCTURED_MODES[:2] if out.get(m)), "none")
    out["structured_mode"] = best
    if cache is not None and name:
        cache.update(base_url, name, structured_mode=best, probed={k: out.get(k) for k in
                                                                  ("json_schema", "json_object", "tools", "streaming",
                                                                   "tokens_per_s")})
    return out


def probe_configured(settings) -> dict[str, Any]:
    cfg = settings.llm.openai
    return probe_endpoint(cfg.base_url, cfg.model, os.environ.get(cfg.api_key_env) or None,
                          timeout_s=min(cfg.timeout_s, 120.0), cache=cache_for(settings))
