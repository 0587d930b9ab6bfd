"""probe_media and list_media: the first tools, needing only ffprobe."""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.settings.loader import resolve_path
from tools.core.settings.sections import LimitsSettings
from tools.core.types import ToolError, ToolResult
from tools.media.decode_check import check_decoding
from tools.media.ffmpeg import ffprobe_json

MEDIA_EXTENSIONS = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv",
                    ".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus"}


class StreamInfo(BaseModel):
    index: int
    kind: str
    codec: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None


class MediaInfo(ToolResult):
    path: str
    duration: float  # what really decodes (see container_duration for what the file claims)
    size_bytes: int
    container: str
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    variable_frame_rate: bool = False
    streams: list[StreamInfo] = []
    container_duration: float | None = None
    decode_checked: bool = False
    truncated: bool = False
    warnings: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        video = f"{self.width}x{self.height} @ {self.fps:.3g} fps" if self.has_video and self.fps else "no video"
        text = f"{Path(self.path).name}: {self.duration:.2f}s, {video}, audio={'yes' if self.has_audio else 'no'}"
        return text + "".join(f"; {w}" for w in self.warnings)


def _rate(text: str | None) -> float | None:
    try:
        value = float(Fraction(text)) if text and text != "0/0" else None
    except (ValueError, ZeroDivisionError):
        return None
    return value or None


_CACHE: dict[tuple, MediaInfo] = {}
_CACHE_SIZE = 128


def media_info(path: Path, ffprobe: str = "ffprobe", *, limits: LimitsSettings | None = None,
               decode_check: bool = True) -> MediaInfo:
    """Probe a media file (pure function behind the tool; used by other families too).

    With `decode_check` the first and last seconds are decoded and `duration` is what really
    decodes, so no caller asks for footage past the end of a truncated file. Results are cached
    per (file, size, mtime).
    """
    limits = limits or LimitsSettings()
    if not path.exists():
        raise ToolError(f"File not found: {path}")
    if path.is_dir():
        raise ToolError(f"{path} is a folder, not a media file")
    stat = path.stat()
    if stat.st_size == 0:
        raise ToolError(f"{path.name} is empty (0 bytes)", "the file may still be copying or be truncated")
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, ffprobe, decode_check, limits.max_frame_pixels,
           limits.decode_probe_s)
    if key in _CACHE:
        return _CACHE[key].model_copy(deep=True)
    info = _probe(path, ffprobe, limits, decode_check)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = info
    return info.model_copy(deep=True)


def _probe(path: Path, ffprobe: str, limits: LimitsSettings, decode_check: bool) -> MediaInfo:
    data = ffprobe_json(path, ffprobe)
    streams = []
    for s in data.get("streams", []):
        kind = s.get("codec_type", "other")
        if kind == "video" and s.get("disposition", {}).get("attached_pic"):
            kind = "cover"
        streams.append(StreamInfo(
            index=s.get("index", 0), kind=kind, codec=s.get("codec_name", "?"),
            width=s.get("width"), height=s.get("height"),
            fps=_rate(s.get("avg_frame_rate")) or _rate(s.get("r_frame_rate")) if kind == "video" else None,
            sample_rate=int(s["sample_rate"]) if s.get("sample_rate") else None, channels=s.get("channels"),
        ))
    video = next((s for s in streams if s.kind == "video"), None)
    audio = next((s for s in streams if s.kind == "audio"), None)
    if video is None and audio is None:
        raise ToolError(f"{path.name} has no audio or video streams", "is this really a media file?")
    if video is not None and video.width and video.height and video.width * video.height > limits.max_frame_pixels:
        raise ToolError(f"{path.name} claims {video.width}x{video.height} frames, more than limits.max_frame_pixels "
                        f"({limits.max_frame_pixels:,} pixels)", "a damaged header, or raise limits.max_frame_pixels")
    fmt = data.get("format", {})
    claimed = _seconds(fmt.get("duration"))
    raw_v = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), {})
    vfr = bool(raw_v) and _rate(raw_v.get("avg_frame_rate")) not in (None, _rate(raw_v.get("r_frame_rate")))
    info = MediaInfo(
        path=str(path), duration=claimed, size_bytes=path.stat().st_size,
        container=fmt.get("format_name", "?"), has_video=video is not None, has_audio=audio is not None,
        width=video.width if video else None, height=video.height if video else None,
        fps=video.fps if video else None, variable_frame_rate=vfr, streams=streams, container_duration=claimed,
    )
    if decode_check:
        rate = video.fps if video else (audio.sample_rate / 1024 if audio and audio.sample_rate else None)
        got = check_decoding(path, ffprobe=ffprobe, stream="v" if video else "a", claimed=claimed, rate=rate,
                             probe_s=limits.decode_probe_s)
        decodes = got.end - _seconds(fmt.get("start_time"))  # times given to ffmpeg count from the file's start
        info.decode_checked = True
        info.truncated = got.truncated
        info.duration = round(decodes if claimed <= 0 else min(claimed, decodes), 6)
        if got.truncated:
            info.warnings.append(f"only the first {info.duration:.2f}s of the {claimed:.2f}s the file claims "
                                 "decode (it is truncated or damaged); times past that are refused")
    return info


def _seconds(value) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) and 0 <= seconds < 10**7 else 0.0


@tool(family="media")
def probe_media(ctx: ToolContext, path: InputPath) -> MediaInfo:
    """Inspect a video or audio file: duration, streams, frame rate and size.

    Args:
        path: The media file (inside the run folder, a media root, or a file you named for this run).
    """
    return media_info(path, ctx.settings.video.ffprobe, limits=ctx.settings.limits)


class MediaEntry(BaseModel):
    path: str
    size_bytes: int
    kind: str


class MediaList(ToolResult):
    roots: list[str]
    files: list[MediaEntry]

    def summary(self) -> str:
        names = ", ".join(Path(f.path).name for f in self.files[:12])
        more = f" (+{len(self.files) - 12} more)" if len(self.files) > 12 else ""
        return f"{len(self.files)} media files: {names}{more}" if self.files else "no media files found"


@tool(family="media")
def list_media(ctx: ToolContext, pattern: str = "*", limit: int = 200) -> MediaList:
    """List video and audio files in the configured media roots and the files named for this run.

    Args:
        pattern: A glob pattern on file names, e.g. "*.mp4" or "*luca*".
        limit: The most files to return.
    """
    if "/" in pattern or ".." in pattern:
        raise ToolError("pattern must match file names only", "use e.g. '*.mp4'")
    roots = [resolve_path(p) for p in ctx.settings.paths.media_roots]
    seen: dict[Path, MediaEntry] = {}
    candidates = [f for r in roots if r.is_dir() for f in sorted(r.rglob(pattern))]
    candidates += [f for f in ctx.workspace.user_files if f.match(pattern)]
    for f in candidates:
        if f.is_file() and f.suffix.lower() in MEDIA_EXTENSIONS and f.resolve() not in seen:
            kind = "audio" if f.suffix.lower() in {".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus"} else "video"
            seen[f.resolve()] = MediaEntry(path=str(f), size_bytes=f.stat().st_size, kind=kind)
            if len(seen) >= limit:
                break
    return MediaList(roots=[str(r) for r in roots], files=list(seen.values()))
