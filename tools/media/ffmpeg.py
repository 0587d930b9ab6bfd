"""Shell-free wrappers around ffmpeg/ffprobe; every run goes through tools.core.child_processes (bounded,
killed with the agent, failures reported with their real reason)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tools.core.child_processes import ChildFailed, ChildResult, defaults, run_child
from tools.core.types import ToolError

# ffprobe reads headers and a few packets; a minute is generous even on a slow network share.
PROBE_TIMEOUT_S = 60.0


def require_binary(name: str, setting: str) -> str:
    path = shutil.which(name)
    if not path:
        raise ToolError(f"{name} is not installed or not on PATH",
                        f"install it (apt-get install ffmpeg) or set {setting} to its full path")
    return path


def run_tool(args: list[str], *, timeout: float | None = None, what: str = "command",
             memory_mb: float | None = None) -> ChildResult:
    """Run an external program from an argument list under the child limits; failures raise
    ChildFailed (a ToolError) naming the reason: exit code + stderr tail, signal, time or memory."""
    return run_child(args, what=what, timeout_s=timeout, memory_mb=memory_mb)


def probe_timeout() -> float:
    return min(PROBE_TIMEOUT_S, defaults()["timeout_s"])


def ffprobe_json(path: Path, ffprobe: str = "ffprobe", timeout: float | None = None) -> dict[str, Any]:
    exe = require_binary(ffprobe, "video.ffprobe")
    args = [exe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", str(path)]
    try:
        proc = run_child(args, what=f"ffprobe {path.name}", timeout_s=timeout or probe_timeout())
    except ChildFailed as exc:
        if exc.reason != "exit":
            raise
        raise ToolError(f"{path.name} is not a readable media file ({exc.stderr_tail.split(' | ')[-1] or 'ffprobe failed'})",
                        "check that the file is a complete video or audio file") from None
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError as exc:
        raise ToolError(f"ffprobe gave unreadable output for {path.name}", "check the ffprobe installation") from exc
    return data if isinstance(data, dict) else {}
