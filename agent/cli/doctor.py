"""`animstudio doctor`: what this machine has, which models are found, which setting to fill."""
from __future__ import annotations

import platform
import shutil
from typing import Any

from rich.console import Console
from rich.table import Table

from tools.core.settings import Settings
from tools.core.settings.loader import resolve_path


def _version(cmd: list[str]) -> str:
    exe = shutil.which(cmd[0])
    if not exe:
        return ""
    from tools.core.child_processes import run_child

    try:
        out = run_child([exe, *cmd[1:]], what=cmd[0], timeout_s=10, check=False).stdout.decode("utf-8", "replace")
    except Exception:
        return "?"
    return (out.strip().splitlines() or ["?"])[0][:80]


def _endpoint_row(settings: Settings) -> tuple[bool, str, str]:
    """What the configured endpoint supports (agent/llm/probe.py), in one line."""
    from agent.llm.probe import probe_configured

    found = probe_configured(settings)
    if not found.get("reachable"):
        return False, found.get("detail", "unreachable"), "llm.openai.base_url"
    yes = {True: "yes", False: "no", None: "?"}
    detail = (f"models: {', '.join(found['models'][:3]) or '-'}; json_schema {yes[found.get('json_schema')]}, "
              f"json_object {yes[found.get('json_object')]}, tools {yes[found.get('tools')]}, "
              f"streaming {yes[found.get('streaming')]}; {found.get('tokens_per_s') or '?'} tokens/s; "
              f"structured output will use {found['structured_mode']}")
    return True, detail, "llm.openai.structured_mode"


def _writers(settings: Settings) -> str:
    from agent.llm.model_install import installed_models

    rows = installed_models(settings)
    have = [f"{r['name']} ({r['path']})" for r in rows if r["installed"]]
    missing = [r["name"] for r in rows if not r["installed"]]
    return ("installed: " + ", ".join(have) if have else "none installed") + (
        f"; `animstudio models install {missing[0]}` adds one" if missing else "")


def checks(settings: Settings) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(name: str, ok: bool, detail: str, setting: str = "") -> None:
        rows.append({"check": name, "ok": ok, "detail": detail, "setting": setting})

    add("python", True, platform.python_version())
    try:
        import torch

        cuda = torch.cuda.is_available()
        add("torch", True, f"{torch.__version__} (CUDA {'yes: ' + torch.cuda.get_device_name(0) if cuda else 'no'})")
    except Exception as exc:
        add("torch", False, f"not importable: {exc}", "run .ci/setup.sh")
    try:
        import cv2

        add("opencv", cv2.__version__.startswith("4"), cv2.__version__)
    except Exception as exc:
        add("opencv", False, str(exc))
    for binary, setting in ((settings.video.ffmpeg, "video.ffmpeg"), (settings.video.ffprobe, "video.ffprobe"),
                            (settings.tts.espeak_binary, "tts.espeak_binary")):
        version = _version([binary, "-version"] if "ff" in binary else [binary, "--version"])
        add(binary, bool(version), version or "not found (apt-get install ffmpeg espeak-ng)", setting)
    try:
        from tools.core.scheduler import describe

        rep = describe(settings)
        data = rep.model_dump() if hasattr(rep, "model_dump") else dict(rep)
        detail = ", ".join(f"{k}={v}" for k, v in data.items() if k in ("profile", "reason", "device", "budget_gb",
                                                                         "vram_budget_gb", "headroom_gb", "holders"))
        add("scheduler", True, detail[:300] or str(data)[:300], "scheduler.profile")
    except Exception as exc:
        add("scheduler", False, f"{type(exc).__name__}: {exc}", "scheduler.profile")
    try:
        from agent.llm import describe_llm

        info = describe_llm(settings, probe=settings.llm.backend == "openai")
        add(f"llm ({settings.llm.backend})", bool(info.get("found", info.get("ok", True))),
            str(info.get("model") or info.get("detail") or info)[:200], str(info.get("setting", "llm.backend")))
        if settings.llm.backend == "openai" and info.get("found"):
            add("llm endpoint", *_endpoint_row(settings))
    except Exception as exc:
        add("llm", False, f"{type(exc).__name__}: {exc}", "llm.backend")
    add("llm writers", True, _writers(settings), "llm.local.model_path")
    try:
        from tools.core.embeddings import embedding_model_path

        add("embeddings", True, str(embedding_model_path(settings)), "rag.embedding_model_path")
    except Exception as exc:
        add("embeddings", False, str(exc), "rag.embedding_model_path")
    try:
        from tools.image.pipeline import image_generation_available

        ok, why = image_generation_available(settings)
        add("sdxl", ok, why, "image.sdxl_model_path")
    except Exception as exc:
        add("sdxl", False, str(exc), "image.sdxl_model_path")
    if settings.video.vlm_base_url:
        add("vlm", True, f"{settings.video.vlm_base_url} ({settings.video.vlm_model})", "video.vlm_base_url")
    else:
        add("vlm", False, "not configured: scene descriptions come from pixel descriptors", "video.vlm_base_url")
    try:
        from tools.audio.piper_voice import unavailable_reason, voice_model

        why = unavailable_reason(settings)
        add("piper voice", why is None, str(voice_model(settings)) if why is None
            else f"{why}: speech falls back to espeak-ng", "tts.piper_model")
    except Exception as exc:
        add("piper voice", False, str(exc), "tts.piper_model")
    try:
        from tools.media.identity.dnn_backend import SFACE_FILE, YUNET_FILE, model_path

        s = settings.dataset
        files = [model_path(s.face_detector_model, YUNET_FILE, "dataset.face_detector_model"),
                 model_path(s.face_recognizer_model, SFACE_FILE, "dataset.face_recognizer_model")]
        add("face models (YuNet, SFace)", True, ", ".join(p.name for p in files), "dataset.face_detector_model")
    except Exception as exc:
        add("face models (YuNet, SFace)", False, f"{exc}: identity uses the OpenCV backend",
            "dataset.face_detector_model")
    root = settings.dataset.insightface_root
    add("insightface", bool(root and resolve_path(root).is_dir()),
        str(resolve_path(root)) if root else "not configured (opt-in: non-commercial models); the dnn/opencv "
        "backends match identities", "dataset.insightface_root")
    return rows


def print_doctor(console: Console, settings: Settings) -> list[dict[str, Any]]:
    rows = checks(settings)
    table = Table("check", "status", "detail", "setting to fill", title="animstudio doctor")
    for row in rows:
        table.add_row(row["check"], "[green]ok[/]" if row["ok"] else "[yellow]missing[/]", row["detail"],
                      row["setting"] if not row["ok"] else "")
    console.print(table)
    return rows
