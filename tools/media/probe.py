"""probe_media and list_media: the first tools, needing only ffprobe."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError, ToolResult
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
    duration: float
    size_bytes: int
    container: str
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    variable_frame_rate: bool = False
    streams: list[StreamInfo] = []

    def summary(self) -> str:
        video = f"{self.width}x{self.height} @ {self.fps:.3g} fps" if self.has_video and self.fps else "no video"
        return f"{Path(self.path).name}: {self.duration:.2f}s, {video}, audio={'yes' if self.has_audio else 'no'}"


def _rate(text: str | None) -> float | None:
    try:
        value = float(Fraction(text)) if text and text != "0/0" else None
    except (ValueError, ZeroDivisionError):
        return None
    return value or None


def media_info(path: Path, ffprobe: str = "ffprobe") -> MediaInfo:
    """Probe a media file (pure function behind the tool; used by other families too)."""
    if not path.exists():
        raise ToolError(f"File not found: {path}")
    if path.is_dir():
        raise ToolError(f"{path} is a folder, not a media file")
    if path.stat().st_size == 0:
        raise ToolError(f"{path.name} is empty (0 bytes)", "the file may still be copying or be truncated")
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
    fmt = data.get("format", {})
    duration = float(fmt.get("duration") or 0.0)
    raw_v = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), {})
    vfr = bool(raw_v) and _rate(raw_v.get("avg_frame_rate")) not in (None, _rate(raw_v.get("r_frame_rate")))
    return MediaInfo(
        path=str(path), duration=duration, size_bytes=path.stat().st_size,
        container=fmt.get("format_name", "?"), has_video=video is not None, has_audio=audio is not None,
        width=video.width if video else None, height=video.height if video else None,
        fps=video.fps if video else None, variable_frame_rate=vfr, streams=streams,
    )


@tool(family="media")
def probe_media(ctx: ToolContext, path: InputPath) -> MediaInfo:
    """Inspect a video or audio file: duration, streams, frame rate and size.

    Args:
        path: The media file (inside the run folder, a media root, or a file you named for this run).
    """
    return media_info(path, ctx.settings.video.ffprobe)


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
