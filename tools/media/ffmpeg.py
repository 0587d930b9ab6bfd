"""Thin, shell-free wrappers around ffmpeg/ffprobe (argument lists only)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tools.core.types import ToolError


def require_binary(name: str, setting: str) -> str:
    path = shutil.which(name)
    if not path:
        raise ToolError(f"{name} is not installed or not on PATH",
                        f"install it (apt-get install ffmpeg) or set {setting} to its full path")
    return path


def run_tool(args: list[str], *, timeout: float | None = None, what: str = "command") -> subprocess.CompletedProcess:
    """Run an external program from an argument list; failures become ToolErrors with stderr's tail."""
    try:
        proc = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise ToolError(f"{args[0]} not found", "install it or fix its setting") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{what} timed out after {timeout}s", "try a shorter input") from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-6:]
        raise ToolError(f"{what} failed: " + " | ".join(tail), "see the run trace for the full command")
    return proc


def ffprobe_json(path: Path, ffprobe: str = "ffprobe") -> dict[str, Any]:
    exe = require_binary(ffprobe, "video.ffprobe")
    args = [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", str(path)]
    try:
        proc = subprocess.run(args, capture_output=True, timeout=60, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"ffprobe timed out on {path.name}") from exc
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ToolError(f"{path.name} is not a readable media file ({msg[-1] if msg else 'ffprobe failed'})",
                        "check that the file is a complete video or audio file")
    return json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
