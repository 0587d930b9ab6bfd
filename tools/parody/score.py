"""Tool `score_parody`: evaluate_media's scorers, reported in the shape the agent's evaluate node reads.

The agent reads {combined, passed, reasons, blame} from a scorer step; blame tags (script, voices,
audio_mix, subtitles, render, scene, images) are mapped to steps by the workflow's `on_blame`.
"""
from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolResult
from tools.quality.av import LineWindow
from tools.quality.evaluate import evaluate

# A parody with a failing scorer is not finished, whatever the weighted mean says: its combined
# score is held just under the threshold so the agent's loop redoes what that scorer blamed.
FAIL_MARGIN = 0.05


class ParodyScore(ToolResult):
    combined: float
    weighted: float  # the plain weighted mean of the scorers that ran
    passed: bool
    threshold: float
    reasons: list[str]
    blame: list[str]
    reports: list[dict[str, Any]] = Field(default_factory=list)
    report_path: str = ""

    def summary(self) -> str:
        parts = ", ".join(f"{r['scorer']}={'skip' if r.get('skipped') else round(r['score'], 2)}" for r in self.reports)
        blame = f"; change: {', '.join(self.blame)}" if self.blame else ""
        return f"parody quality {self.combined:.2f} {'PASS' if self.passed else 'FAIL'} ({parts}){blame}"


@tool(family="parody")
def score_parody(ctx: ToolContext, video: InputPath, lines: list[LineWindow] | None = None, subtitles: InputPath | None = None,
                 script: str = "", request: str = "", target_duration: float | None = None,
                 characters: list[str] | None = None, images: list[str] | None = None) -> ParodyScore:
    """Score a finished parody: video (duration, A/V sync, black/frozen picture), audio (loudness, clipping, every
    line heard in its window), subtitles (timing rules), script (LLM judge) and inserted images.

    Args:
        video: The parody MP4.
        lines: Where each line is heard: [{text, start, end, speaker}] (assemble_parody's `lines`).
        subtitles: The .srt written with the video.
        script: The script text ("Speaker: line" per line).
        request: The user's request, for the judge.
        target_duration: The planned length in seconds.
        characters: Character names, for the judge.
        images: Generated insert images to check (workspace paths).
    """
    paths = [ctx.workspace.resolve_input(p) for p in images or [] if str(p).lower().endswith((".png", ".jpg", ".jpeg"))]
    report = evaluate(ctx, video, target_duration, list(lines or []), subtitles, script, request, paths,
                      ", ".join(characters or []))
    out = ctx.workspace.unique_output("parody_quality", ".json", "quality")
    out.write_text(json.dumps(report.model_dump(mode="json"), indent=2), encoding="utf-8")
    rel = ctx.workspace.relative(out)
    combined = report.score if report.passed else min(report.score, max(0.0, report.threshold - FAIL_MARGIN))
    return ParodyScore(combined=round(combined, 4), weighted=report.score, passed=report.passed, threshold=report.threshold,
                       reasons=report.reasons, blame=report.blame,
                       reports=[r.model_dump(mode="json") for r in report.reports], report_path=rel,
                       artifacts=[Artifact(path=rel, kind="json", metadata={"score": report.score,
                                                                            "passed": report.passed})])
