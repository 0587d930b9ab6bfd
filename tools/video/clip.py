"""Tool `extract_clip`: lossless stream copy when the in point is a keyframe, accurate re-encode otherwise."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from tools.core.child_processes import run_child
from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.ffmpeg import require_binary, run_tool
from tools.media.probe import media_info


class ClipResult(ToolResult):
    path: str
    source: str
    start: float
    end: float
    duration: float
    mode: Literal["copy", "reencode"]

    def summary(self) -> str:
        return f"clip {self.path} ({self.start:.2f}-{self.end:.2f}s of {Path(self.source).name}, {self.mode})"


def keyframe_times(ffprobe: str, path: Path, around: float, window: float = 2.0) -> list[float]:
    """Video keyframe timestamps in [around - window, around + window] (reads only that interval)."""
    a = max(0.0, around - window)
    args = [ffprobe, "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey", "-show_entries",
            "frame=pts_time,best_effort_timestamp_time", "-of", "csv=p=0",
            "-read_intervals", f"{a:.3f}%+{2 * window:.3f}", "--", str(path)]
    proc = run_child(args, what=f"keyframe scan of {path.name}", timeout_s=60, check=False)
    out: list[float] = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        for field in line.split(","):
            try:
                out.append(float(field))
                break
            except ValueError:
                continue
    return sorted(set(out))


def check_range(start: float, end: float, duration: float, name: str) -> None:
    if start < 0:
        raise ToolError(f"start {start}s is negative", "times are seconds from the start of the film")
    if end <= start:
        raise ToolError(f"the clip {start}s–{end}s is empty (end must be after start)", "give end > start")
    if start >= duration:
        raise ToolError(f"start {start}s is past the end of {name} ({duration:.2f}s)", "pick a start inside the film")
    if end > duration + 0.05:
        raise ToolError(f"end {end}s is past the end of {name} ({duration:.2f}s)",
                        f"use end ≤ {duration:.2f} (detect_scenes lists the scene boundaries)")


@tool(family="video")
def extract_clip(ctx: ToolContext, film: InputPath, start: float, end: float,
                 mode: Literal["auto", "copy", "reencode"] = "auto") -> ClipResult:
    """Cut the part of a film between two times into a new MP4.

    Args:
        film: The source video.
        start: In point in seconds.
        end: Out point in seconds.
        mode: "auto" stream-copies (lossless, instant) when the in point is on a keyframe and re-encodes
            accurately otherwise; "copy" forces stream copy (cuts snap to the previous keyframe);
            "reencode" always re-encodes.
    """
    vs = ctx.settings.video
    info = media_info(film, vs.ffprobe, limits=ctx.settings.limits)
    if not info.has_video:
        raise ToolError(f"{film.name} has no video stream", "extract_clip cuts videos")
    check_range(start, end, info.duration, film.name)
    end = min(end, info.duration)
    frame = 1.0 / (info.fps or 25.0)
    chosen = mode
    if mode == "auto":
        keys = keyframe_times(vs.ffprobe, film, start)
        chosen = "copy" if any(abs(k - start) <= frame / 2 for k in keys) else "reencode"
    out = ctx.workspace.unique_output(f"{film.stem}_{start:.2f}-{end:.2f}", ".mp4", "clips")
    ffmpeg = require_binary(vs.ffmpeg, "video.ffmpeg")
    args = [ffmpeg, "-nostdin", "-y", "-v", "error", "-ss", f"{start:.6f}", "-i", f"file:{film}",
            "-t", f"{end - start:.6f}", "-map", "0:v:0", "-map", "0:a:0?"]
    if chosen == "copy":
        args += ["-c", "copy", "-avoid_negative_ts", "make_zero"]
    else:
        args += ["-c:v", "libx264", "-preset", vs.preset, "-crf", str(vs.crf), "-pix_fmt", "yuv420p",
                 "-c:a", "aac", "-b:a", vs.audio_bitrate]
    args += ["-movflags", "+faststart", f"file:{out}"]
    ctx.trace.event("video.extract_clip", film=str(film), start=start, end=end, mode=chosen)
    run_tool(args, timeout=vs.render_timeout_s, what="ffmpeg clip extraction")
    got = media_info(out, vs.ffprobe, decode_check=False)  # our own output: its length is checked below
    tolerance = max(vs.duration_tolerance_s, 2 * frame)
    if chosen == "reencode" and abs(got.duration - (end - start)) > tolerance + frame:
        raise ToolError(f"the clip came out {got.duration:.2f}s long instead of {end - start:.2f}s",
                        "the source may have broken timestamps; try mode='reencode' on a remuxed copy")
    rel = ctx.workspace.relative(out)
    artifacts = [Artifact(path=rel, kind="video", metadata={"source": str(film), "start": start, "end": end,
                                                            "mode": chosen})]
    return ClipResult(path=rel, source=str(film), start=start, end=end, duration=got.duration, mode=chosen,
                      artifacts=artifacts + _timeline(ctx, film, start, end, info, out))


def _timeline(ctx: ToolContext, film: Path, start: float, end: float, info, out: Path) -> list[Artifact]:
    """The cut as a one-clip timeline (an editor opens the film at that range; no sound processing)."""
    from tools.video.edl import EDL, Clip, Ducking
    from tools.video.timeline.build import Frame, Source
    from tools.video.timeline.export import wanted_formats, write_timelines

    edl = EDL(clips=[Clip(source=str(film), start=start, end=end)], loudness_lufs=None, duck=Ducking(enabled=False),
              output=ctx.workspace.relative(out))
    try:
        files = write_timelines(ctx, edl, {str(film): Source(path=film, duration=info.duration, has_audio=info.has_audio)},
                                Frame(int(info.width or 0), int(info.height or 0), float(info.fps or 25.0)), out,
                                wanted_formats(ctx))
    except Exception as exc:  # the clip is cut: a timeline that cannot be written is only traced
        ctx.trace.event("video.timeline.failed", error=f"{type(exc).__name__}: {exc}"[:500])
        return []
    return files.artifacts()
