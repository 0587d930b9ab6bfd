"""Tool `render_edit`: EDL → one ffmpeg filter graph (filtergraph.py) → one ffmpeg run → checked MP4."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from tools.core.child_processes import Child
from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.ffmpeg import require_binary
from tools.media.probe import media_info
from tools.media.subtitles import build_cues, to_ass, to_srt
from tools.video.edit_check import checked_edit
from tools.video.edl import EDL
from tools.video.filtergraph import compile_edl
from tools.video.timeline.build import Frame, Source


class RenderResult(ToolResult):
    path: str
    duration: float
    expected_duration: float
    width: int
    height: int
    fps: float
    seconds: float
    subtitles: str | None = None
    warnings: list[str] = []
    timelines: dict[str, str] = {}  # format → the edit's timeline file (tools/video/timeline)
    not_kept: dict[str, list[str]] = {}  # format → features of this edit it cannot hold

    def summary(self) -> str:
        warn = f"; {len(self.warnings)} warnings: " + "; ".join(self.warnings[:3]) if self.warnings else ""
        return (f"rendered {self.path}: {self.duration:.2f}s {self.width}x{self.height}@{self.fps:g} "
                f"in {self.seconds:.1f}s{warn}")


def _fresh_output(ctx: ToolContext, name: str) -> Path:
    """The requested output path (any characters), numbered instead of overwriting an earlier render."""
    out = ctx.workspace.resolve_output(name)
    n = 1
    while out.exists():
        out = ctx.workspace.resolve_output(str(Path(name).with_name(f"{Path(name).stem}_{n}.mp4")))
        n += 1
    return out


def run_ffmpeg_with_progress(ctx: ToolContext, args: list[str], total: float, label: str, timeout: float,
                             stderr_path: Path) -> None:
    """Run ffmpeg with `-progress pipe:1` under the child limits, forwarding its clock to
    ctx.progress and the trace; a failure names its real reason (limit, signal or ffmpeg's error)."""
    with stderr_path.open("wb") as err, ctx.progress.task(label, total=round(total, 2)) as task, \
            Child(args, what="ffmpeg render", timeout_s=timeout, stderr=err) as child:
        last_traced = -1
        for raw in child.proc.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key in ("out_time_us", "out_time_ms") and value.strip().lstrip("-").isdigit():
                done = min(total, int(value) / 1e6)
                task.update(completed=round(done, 2))
                decile = int(10 * done / max(total, 1e-6))
                if decile > last_traced:
                    last_traced = decile
                    ctx.trace.event("video.render.progress", label=label, seconds=round(done, 2), total=total)
        child.wait()
    failure = child.failure(stderr_path.read_bytes())
    if failure is not None:
        ctx.trace.event("video.render.failed", reason=failure.reason, returncode=failure.returncode,
                        peak_rss_mb=failure.peak_rss_mb, stderr=failure.stderr_tail)
        if failure.reason == "exit":
            failure.hint = "see the saved filter graph next to the output for the exact graph"
        raise failure


def render(ctx: ToolContext, edl: EDL, timeline_formats: list[str] | None = None) -> RenderResult:
    """Validate, compile and render `edl` (the function behind the tool; usable from code). The edit's
    timeline (.otio and the formats asked for) is written next to the MP4."""
    vs = ctx.settings.video
    t0 = time.perf_counter()
    edl, infos, (width, height, fps) = checked_edit(ctx, edl)
    if not edl.output.lower().endswith(".mp4"):
        raise ToolError(f"output {edl.output!r} must be an .mp4 file", "e.g. output='renders/parody.mp4'")
    ffmpeg = require_binary(vs.ffmpeg, "video.ffmpeg")
    out = _fresh_output(ctx, edl.output)
    partial = out.with_name(f".{out.stem}.partial.mp4")  # renamed to `out` once complete and checked
    work = Path(tempfile.mkdtemp(prefix="animstudio-render-"))
    artifacts: list[Artifact] = []
    warnings: list[str] = []
    try:
        ass_file = srt_rel = None
        # A first compile gives the timeline (cut times) for the subtitle rules.
        compiled = compile_edl(edl, infos, width=width, height=height, fps=fps, work_dir=work)
        if edl.subtitles:
            cues = build_cues([(s.text, s.start, s.end) for s in edl.subtitles], fps=fps,
                              cuts=compiled.cut_times, timeline_end=compiled.duration)
            warnings += [f"subtitle {' '.join(c.lines)[:30]!r}: {w}" for c in cues for w in c.warnings]
            st = edl.subtitle_style
            ass_file = work / "subtitles.ass"
            ass_file.write_text(to_ass(cues, width=width, height=height, size=st.size, color=st.color,
                                       outline_color=st.outline_color, outline=st.outline, margin=st.margin,
                                       bold=st.bold), encoding="utf-8")
            srt = out.with_suffix(".srt")
            srt.write_text(to_srt(cues), encoding="utf-8")
            srt_rel = ctx.workspace.relative(srt)
            artifacts.append(Artifact(path=srt_rel, kind="subtitles", metadata={"cues": len(cues)}))
            compiled = compile_edl(edl, infos, width=width, height=height, fps=fps, work_dir=work,
                                   subtitles_file=ass_file)
        for name, content in compiled.text_files.items():
            (work / name).write_text(content, encoding="utf-8")
        script = work / "graph.txt"
        script.write_text(compiled.graph, encoding="utf-8")
        graph_copy = out.with_suffix(".filtergraph.txt")
        shutil.copyfile(script, graph_copy)
        args = [ffmpeg, "-nostdin", "-y", "-v", "error", "-progress", "pipe:1", "-nostats", *compiled.input_args,
                "-filter_complex_script", str(script), "-map", "[vout]", "-map", "[aout]",
                "-c:v", "libx264", "-preset", vs.preset, "-crf", str(vs.crf), "-pix_fmt", "yuv420p",
                "-r", f"{fps}", "-c:a", "aac", "-b:a", vs.audio_bitrate, "-ar", "48000",
                "-movflags", "+faststart", "-t", f"{compiled.duration:.6f}", "-f", "mp4", f"file:{partial}"]
        ctx.trace.event("video.render.start", output=str(out), duration=compiled.duration, inputs=len(infos),
                        graph=ctx.workspace.relative(graph_copy))
        try:
            run_ffmpeg_with_progress(ctx, args, compiled.duration, f"render {out.name}", vs.render_timeout_s,
                                     work / "stderr.txt")
            got = _validate(partial, compiled.duration, fps, vs)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)  # no half-written MP4 left behind to be mistaken for a result
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rel = ctx.workspace.relative(out)
    artifacts.insert(0, Artifact(path=rel, kind="video", metadata={"duration": got.duration, "width": width,
                                                                   "height": height, "fps": fps}))
    artifacts.append(Artifact(path=ctx.workspace.relative(graph_copy), kind="text", metadata={"what": "ffmpeg filter graph"}))
    from tools.video.timeline.export import wanted_formats, write_timelines

    files: dict[str, str] = {}
    not_kept: dict[str, list[str]] = {}
    try:  # the MP4 is done: a timeline that cannot be written is a warning, not a lost render
        timeline = write_timelines(ctx, edl, {k: Source(path=v.path, duration=v.duration, has_audio=v.has_audio)
                                              for k, v in infos.items()}, Frame(width, height, fps), out,
                                   wanted_formats(ctx, timeline_formats))
        artifacts += timeline.artifacts()
        files, not_kept = timeline.files, timeline.not_kept
    except Exception as exc:
        warnings.append(f"the timeline was not written: {getattr(exc, 'message', None) or exc}")
        ctx.trace.event("video.timeline.failed", error=f"{type(exc).__name__}: {exc}"[:500])
    seconds = round(time.perf_counter() - t0, 3)
    ctx.trace.event("video.render.done", output=rel, duration=got.duration, seconds=seconds)
    return RenderResult(path=rel, duration=got.duration, expected_duration=round(compiled.duration, 4), width=width,
                        height=height, fps=fps, seconds=seconds, subtitles=srt_rel, warnings=warnings,
                        timelines=files, not_kept=not_kept, artifacts=artifacts)


def _validate(out: Path, expected: float, fps: float, vs):
    """ffprobe the result: H.264 yuv420p video + AAC audio, duration within tolerance."""
    if not out.is_file() or out.stat().st_size == 0:
        raise ToolError("ffmpeg reported success but wrote no output", "see the run trace")
    info = media_info(out, vs.ffprobe, decode_check=False)  # our own output: its length is checked below
    codecs = {s.kind: s.codec for s in info.streams}
    if codecs.get("video") != "h264" or codecs.get("audio") != "aac":
        raise ToolError(f"the render has streams {codecs}, expected h264 video and aac audio", "see the run trace")
    tolerance = max(vs.duration_tolerance_s, 2.0 / fps)
    if abs(info.duration - expected) > tolerance:
        raise ToolError(f"the render is {info.duration:.3f}s long, expected {expected:.3f}s (±{tolerance:.2f}s)",
                        "a source may have broken timestamps; try re-encoding it with extract_clip first")
    return info


@tool(family="video")
def render_edit(ctx: ToolContext, edl: EDL) -> RenderResult:
    """Render an edit decision list (clips, speed, freeze frames, zooms, crossfades, title cards, text
    overlays, subtitles, voices/music/effects with ducking, fades, loudness) to an H.264/AAC MP4.

    Args:
        edl: The edit: clips (source times in seconds), overlays/subtitles/audio (timeline seconds), output name.
    """
    return render(ctx, edl)
