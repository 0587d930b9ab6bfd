"""Check an edit before anything renders or exports it: every file the EDL names probed, every time
checked against its source and the timeline (all problems at once), open clip ends filled, and the
output's width, height and fps decided. Used by render_edit and by the timeline export."""
from __future__ import annotations

from tools.core.context import ToolContext
from tools.core.types import ToolError
from tools.media.probe import media_info
from tools.video.edl import EDL, Clip, FreezeFrame
from tools.video.filtergraph import SourceInfo, segment_duration


def _resolve_sources(ctx: ToolContext, edl: EDL) -> tuple[dict[str, SourceInfo], list[str]]:
    """Probe every file the EDL names; collect every problem instead of stopping at the first."""
    vs = ctx.settings.video
    infos: dict[str, SourceInfo] = {}
    problems: list[str] = []
    names = [c.source for c in edl.clips if isinstance(c, (Clip, FreezeFrame))]
    names += [t.source for t in edl.audio if t.source]
    for name in dict.fromkeys(names):
        try:
            path = ctx.workspace.resolve_input(name)
            info = media_info(path, vs.ffprobe, limits=ctx.settings.limits)
            infos[name] = SourceInfo(path=path, duration=info.duration, has_audio=info.has_audio,
                                     has_video=info.has_video)
        except ToolError as exc:
            problems.append(f"{name}: {exc.message}")
    return infos, problems


def _check(edl: EDL, infos: dict[str, SourceInfo], problems: list[str]) -> EDL:
    """Fill open clip ends and check every time against the sources and the timeline."""
    edl = edl.model_copy(deep=True)
    for n, seg in enumerate(edl.clips, 1):
        src = infos.get(getattr(seg, "source", ""))
        where = f"clip {n}"
        if isinstance(seg, Clip) and src:
            if not src.has_video:
                problems.append(f"{where}: {seg.source} has no video stream")
            if seg.start >= src.duration:
                problems.append(f"{where}: start {seg.start}s is past the end of {seg.source} ({src.duration:.2f}s)")
            if seg.end is None:
                seg.end = src.duration
            elif seg.end > src.duration + 0.05:
                problems.append(f"{where}: end {seg.end}s is past the end of {seg.source} ({src.duration:.2f}s)")
            seg.end = min(seg.end, src.duration)
            if seg.end <= seg.start:
                problems.append(f"{where}: the clip is empty ({seg.start}s–{seg.end}s)")
        elif isinstance(seg, FreezeFrame) and src:
            if not src.has_video:
                problems.append(f"{where}: {seg.source} has no video stream")
            if seg.at >= src.duration:
                problems.append(f"{where}: freeze time {seg.at}s is past the end of {seg.source} ({src.duration:.2f}s)")
    for t in edl.audio:
        src = infos.get(t.source or "")
        if t.source and src:
            if not src.has_audio:
                problems.append(f"audio {t.source}: the file has no audio stream")
            if t.start >= src.duration:
                problems.append(f"audio {t.source}: start {t.start}s is past its end ({src.duration:.2f}s)")
            if t.end is not None and t.end > src.duration + 0.05:
                problems.append(f"audio {t.source}: end {t.end}s is past its end ({src.duration:.2f}s)")
    if problems:
        return edl
    durations = [segment_duration(s) for s in edl.clips]
    for n, (seg, prev, cur) in enumerate(zip(edl.clips[1:], durations, durations[1:]), 2):
        if seg.transition and seg.transition.duration >= min(prev, cur):
            problems.append(f"clip {n}: the {seg.transition.duration}s transition is as long as a clip it joins "
                            f"({min(prev, cur):.2f}s)")
    total = sum(durations) - sum(s.transition.duration for s in edl.clips[1:] if s.transition)
    for ov in edl.overlays:
        if ov.start >= total:
            problems.append(f"overlay {ov.text[:30]!r} starts at {ov.start}s but the edit is {total:.2f}s long")
    for line in edl.subtitles:
        if line.start >= total:
            problems.append(f"subtitle {line.text[:30]!r} starts at {line.start}s but the edit is {total:.2f}s long")
    for t in edl.audio:
        if t.at >= total:
            problems.append(f"audio {(t.source or t.effect)!r} starts at {t.at}s but the edit is {total:.2f}s long")
    return edl


def _output_format(edl: EDL, infos: dict[str, SourceInfo], ctx: ToolContext) -> tuple[int, int, float]:
    vs = ctx.settings.video
    first = next((c for c in edl.clips if isinstance(c, (Clip, FreezeFrame))), None)
    w, h, fps = edl.width, edl.height, edl.fps
    if first is not None and (w is None or h is None or fps is None):
        info = media_info(infos[first.source].path, vs.ffprobe, limits=ctx.settings.limits)
        if w is None or h is None:
            w, h = (info.width or vs.width), (info.height or vs.height)
            w, h = w - w % 2, h - h % 2
        fps = fps or info.fps or vs.fps
    return w or vs.width, h or vs.height, round(float(fps or vs.fps), 3)


def checked_edit(ctx: ToolContext, edl: EDL) -> tuple[EDL, dict[str, SourceInfo], tuple[int, int, float]]:
    """The EDL with every file probed and every time checked (open clip ends filled), and the output
    width, height and fps; all problems at once in one ToolError."""
    infos, problems = _resolve_sources(ctx, edl)
    edl = _check(edl, infos, problems)
    if problems:
        raise ToolError(f"The edit has {len(problems)} problem{'s' if len(problems) > 1 else ''}: "
                        + "; ".join(problems), "fix these times/files in the EDL and render again")
    return edl, infos, _output_format(edl, infos, ctx)
