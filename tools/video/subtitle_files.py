"""Tool `make_subtitles`: SRT and ASS files from timed lines (the rules and the formats are
`tools/media/subtitles.py`)."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.types import Artifact, ToolResult
from tools.media.subtitles import build_cues, to_ass, to_srt
from tools.video.edl import SubtitleLine


class SubtitleResult(ToolResult):
    srt: str
    ass: str
    cues: int
    warnings: list[str] = []


@tool(family="video")
def make_subtitles(ctx: ToolContext, lines: list[SubtitleLine], name: str = "subtitles",
                   fps: Annotated[float, Field(gt=0.0, le=240.0)] = 24.0, cuts: list[float] | None = None,
                   width: Annotated[int, Field(ge=16, le=7680)] = 1280,
                   height: Annotated[int, Field(ge=16, le=4320)] = 720) -> SubtitleResult:
    """Write SRT and ASS subtitle files from timed lines, applying the subtitle timing rules (characters a
    line and a second, lines a cue and frames between cues as the quality settings set them; cues do not
    straddle shot changes).

    Args:
        lines: The timed lines (text, start, end in seconds).
        name: File name stem for the outputs.
        fps: Frame rate of the video (for the 2-frame gap).
        cuts: Shot-change times in seconds (e.g. from detect_scenes) to snap cues to.
        width: Video width (ASS play resolution).
        height: Video height.
    """
    cues = build_cues([(s.text, s.start, s.end) for s in lines], fps=fps, cuts=list(cuts or []),
                      rules=ctx.settings.quality)
    srt = ctx.workspace.unique_output(name, ".srt", "subtitles")
    srt.write_text(to_srt(cues), encoding="utf-8")
    ass = srt.with_suffix(".ass")
    ass.write_text(to_ass(cues, width=width, height=height), encoding="utf-8")
    warnings = [f"{' '.join(c.lines)[:30]!r}: {w}" for c in cues for w in c.warnings]
    paths = [ctx.workspace.relative(srt), ctx.workspace.relative(ass)]
    return SubtitleResult(srt=paths[0], ass=paths[1], cues=len(cues), warnings=warnings,
                          artifacts=[Artifact(path=p, kind="subtitles") for p in paths])
