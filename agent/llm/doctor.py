"""`describe_llm(settings)`: what `animstudio doctor` prints about the configured LLM."""
from __future__ import annotations

import os
from typing import Any

import httpx


def describe_llm(settings, *, probe: bool = True) -> dict[str, Any]:
    """Backend, model/endpoint, whether it was found, and which setting to fill when it was not.

    `probe` lets the openai backend check the endpoint with one short GET /models (2 s timeout).
    """
    backend = settings.llm.backend
    if backend == "local":
        return _describe_local(settings)
    if backend == "openai":
        return _describe_openai(settings, probe)
    script = settings.llm.fake.script
    info: dict[str, Any] = {"backend": "fake", "model": "fake-script", "script": str(script) if script else None}
    if script is None:
        return {**info, "found": True, "detail": "no script: calls fail until responses are scripted"}
    from tools.core.settings.loader import resolve_path

    found = resolve_path(script).is_file()
    return {**info, "found": found, **({} if found else {"setting": "llm.fake.script"})}


def _describe_local(settings) -> dict[str, Any]:
    from agent.llm.errors import LLMConfigError
    from agent.llm.local_backend import resolve_model_path

    cfg = settings.llm.local
    info: dict[str, Any] = {"backend": "local", "setting": "llm.local.model_path",
                            "packaged": cfg.model_path is None}
    try:
        path = resolve_model_path(cfg.model_path)
    except LLMConfigError as exc:
        return {**info, "model": str(cfg.model_path) if cfg.model_path else None, "found": False,
                "detail": exc.message, "hint": exc.hint}
    try:
        import llama_cpp

        runtime = f"llama-cpp-python {llama_cpp.__version__}"
    except ImportError:
        return {**info, "model": str(path), "found": False, "detail": "llama-cpp-python is not installed",
                "hint": "pip install llama-cpp-python"}
    return {**info, "model": str(path), "found": True, "size_mb": round(path.stat().st_size / 2**20, 1),
            "runtime": runtime}


def _describe_openai(settings, probe: bool) -> dict[str, Any]:
    cfg = settings.llm.openai
    info: dict[str, Any] = {"backend": "openai", "endpoint": cfg.base_url, "model": cfg.model or "(first served)",
                            "api_key_env": cfg.api_key_env, "api_key_set": bool(os.environ.get(cfg.api_key_env))}
    if not probe:
        return {**info, "found": None}
    headers = {"Authorization": f"Bearer {os.environ[cfg.api_key_env]}"} if info["api_key_set"] else {}
    try:
        resp = httpx.get(cfg.base_url.rstrip("/") + "/models", headers=headers, timeout=2.0)
    except httpx.HTTPError as exc:
        return {**info, "found": False, "setting": "llm.openai.base_url",
                "detail": f"cannot reach {cfg.base_url}: {type(exc).__name__}"}
    if resp.status_code in (401, 403):
        return {**info, "found": False, "setting": "llm.openai.api_key_env",
                "detail": f"HTTP {resp.status_code}: the key is missing or refused"}
    try:
        served = [m.get("id") for m in resp.json().get("data", [])]
    except (ValueError, AttributeError):
        served = []
    if cfg.model and served and cfg.model not in served:
        return {**info, "found": False, "setting": "llm.openai.model", "served": served[:10],
                "detail": f"the server does not serve {cfg.model!r}"}
    return {**info, "found": resp.status_code < 400, "served": served[:10],
            **({} if resp.status_code < 400 else {"setting": "llm.openai.base_url",
                                                   "detail": f"HTTP {resp.status_code}"})}
