"""Every rendered edit also leaves its timeline: the checked EDL (`<video>.edl.json`), the `.otio` and
the formats the settings ask for (`video.timeline_formats`, `animstudio run --timeline kdenlive,mlt`),
next to the MP4, plus the pictures and sounds only our renderer makes (`<video>.media/`)."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.types import Artifact, ToolError
from tools.media.ffmpeg import require_binary
from tools.video.edit_check import checked_edit
from tools.video.edl import EDL
from tools.video.timeline.build import Frame, Source, build_timeline
from tools.video.timeline.formats import FEATURES, FORMATS, lost_features, write_format

EDL_SUFFIX = ".edl.json"


class TimelineFiles(BaseModel):
    video: str  # the render the timeline describes (run-relative)
    edl: str
    files: dict[str, str] = Field(default_factory=dict)  # format → run-relative path
    not_kept: dict[str, list[str]] = Field(default_factory=dict)  # format → features it cannot hold

    def artifacts(self) -> list[Artifact]:
        arts = [Artifact(path=self.edl, kind="json", metadata={"what": "edit decision list", "video": self.video})]
        for fmt, path in self.files.items():
            lost = self.not_kept.get(fmt, [])
            arts.append(Artifact(path=path, kind="timeline", metadata={
                "format": fmt, "label": FORMATS[fmt].label, "video": self.video, "not_kept": lost,
                "not_kept_text": "; ".join(FEATURES[f] for f in lost)}))
        return arts


def wanted_formats(ctx: ToolContext, extra: list[str] | None = None) -> list[str]:
    asked = ["otio", *getattr(ctx.settings.video, "timeline_formats", []), *(extra or [])]
    unknown = [f for f in asked if f not in FORMATS]
    if unknown:
        raise ToolError(f"unknown timeline format(s) {', '.join(unknown)}", f"choose from {', '.join(FORMATS)}")
    return list(dict.fromkeys(asked))


def write_timelines(ctx: ToolContext, edl: EDL, sources: dict[str, Source], frame: Frame, video: Path,
                    formats: list[str] | None = None) -> TimelineFiles:
    """Write the timeline of a checked EDL (clip ends filled) whose render is `video`."""
    ws = ctx.workspace
    formats = formats or wanted_formats(ctx)
    edl = edl.model_copy(update={"output": ws.relative(video)})  # the render's real name (it may be numbered)
    edl_file = video.with_name(video.stem + EDL_SUFFIX)
    edl_file.write_text(edl.model_dump_json(indent=2), encoding="utf-8")
    ffmpeg = require_binary(ctx.settings.video.ffmpeg, "video.ffmpeg")
    timeline = build_timeline(edl, sources, frame, run_root=ws.root, out_dir=video.parent, name=video.stem,
                              media_dir=video.with_name(video.stem + ".media"), ffmpeg=ffmpeg,
                              video=ws.relative(video))
    out = TimelineFiles(video=ws.relative(video), edl=ws.relative(edl_file))
    for fmt in formats:
        path = write_format(timeline, edl, fmt, video.with_suffix(FORMATS[fmt].suffix))
        out.files[fmt] = ws.relative(path)
        out.not_kept[fmt] = lost_features(edl, fmt)
    ctx.trace.event("video.timeline", video=out.video, files=out.files,
                    not_kept={k: v for k, v in out.not_kept.items() if v})
    return out


def export_edl_file(ctx: ToolContext, edl_file: Path, formats: list[str], video: Path | None = None) -> TimelineFiles:
    """Export an EDL saved by an earlier run (`<video>.edl.json`, or a parody's `parody_N_edl.json`)."""
    try:
        edl = EDL.model_validate_json(edl_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ToolError(f"{edl_file.name} is not a readable edit decision list: {str(exc)[:300]}") from None
    edl, infos, (width, height, fps) = checked_edit(ctx, edl)
    if video is None:
        video = ctx.workspace.resolve_input(edl.output, must_exist=False)
        if not video.exists():  # a numbered render (parody_0_1.mp4) or none: name the files after the EDL
            video = edl_file.with_name(edl_file.name.removesuffix(EDL_SUFFIX).removesuffix("_edl.json")
                                       .removesuffix(".json") + ".mp4")
    sources = {k: Source(path=v.path, duration=v.duration, has_audio=v.has_audio) for k, v in infos.items()}
    return write_timelines(ctx, edl, sources, Frame(width, height, fps), video, formats)


def run_edls(run_dir: Path) -> list[Path]:
    """The EDLs a run saved: one per render (`*.edl.json`), and a parody's `*_edl.json` of older runs
    whose render has no `.edl.json` of its own."""
    found = sorted(p for p in run_dir.rglob(f"*{EDL_SUFFIX}") if p.is_file())
    covered = {p.name.removesuffix(EDL_SUFFIX) for p in found}
    for old in sorted(run_dir.rglob("*_edl.json")):
        stem = old.name.removesuffix("_edl.json")
        if old.is_file() and stem not in covered and not old.name.endswith(EDL_SUFFIX):
            found.append(old)
    return found
