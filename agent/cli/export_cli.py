"""`animstudio export RUN_ID --format …` and `run --timeline …`: an existing run's edits as timelines."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agent.cli.errors import EXIT_FAILED, fail
from tools.core.settings import Settings
from tools.core.settings.loader import resolve_path


def _formats(values: list[str] | None) -> list[str]:
    from tools.video.timeline.formats import FORMATS

    asked = [f.strip().lower() for v in values or [] for f in v.split(",") if f.strip()]
    unknown = [f for f in asked if f not in FORMATS]
    if unknown:
        fail(f"unknown timeline format {', '.join(unknown)}", f"choose from {', '.join(FORMATS)}")
    return asked


def timeline_option(value: str | None, resuming: bool) -> tuple[Path | None, list[str]]:
    """`--timeline`: with --resume a file the user edited; otherwise the formats to write."""
    if not value:
        return None, []
    if resuming:
        path = Path(value).expanduser()
        if not path.is_file():
            fail(f"--timeline {value}: no such file", "with --resume, give the timeline you edited (e.g. edited.otio)")
        return path, []
    return None, _formats([value])


def _context(settings: Settings, run_dir: Path):
    from tools.core.context import make_context
    from tools.core.trace import Trace
    from tools.core.workspace import Workspace

    ws = Workspace(run_dir, [resolve_path(p) for p in settings.paths.media_roots])
    result_file = run_dir / "result.json"
    record = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else {}
    inputs = run_dir / "inputs.json"
    named = [record.get("film"), *(json.loads(inputs.read_text(encoding="utf-8")) if inputs.exists() else [])]
    for path in named:
        if path and Path(path).exists():
            ws.allow_file(path)  # the files this run was given are readable again
    return make_context(settings, ws, trace=Trace(run_dir / "trace.jsonl")), record


def _allow_sources(ctx, edl_file: Path) -> None:
    """The files the run's own EDL played (the film it was given, wherever it lies) are readable again."""
    try:
        data = json.loads(edl_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for item in [*(data.get("clips") or []), *(data.get("audio") or [])]:
        src = item.get("source") if isinstance(item, dict) else None
        if isinstance(src, str) and Path(src).is_absolute() and Path(src).is_file():
            ctx.workspace.allow_file(src)


def export_run(settings: Settings, run_id: str, formats: list[str] | None, render: bool, out: Console) -> None:
    from agent.report import render_report
    from tools.core.types import ToolError
    from tools.core.workspace import run_folder
    from tools.video.timeline.export import export_edl_file, run_edls
    from tools.video.timeline.formats import FEATURES, FORMATS

    run_dir = run_folder(resolve_path(settings.paths.runs_dir), run_id)
    if not run_dir.is_dir():
        fail(f"no run {run_id!r} in {run_dir.parent}")
    chosen = _formats(formats) or list(FORMATS)
    edls = run_edls(run_dir)
    if not edls:
        fail(f"run {run_id!r} saved no edit to export", "parodies, cut scenes and subtitled scenes leave one")
    ctx, record = _context(settings, run_dir)
    table = Table("edit", "format", "file", "cannot hold", title=f"timelines of run {run_id}",
                  caption="features: " + "; ".join(f"{k} = {v}" for k, v in FEATURES.items()))
    made = []
    for edl_file in edls:
        _allow_sources(ctx, edl_file)
        try:
            files = export_edl_file(ctx, edl_file, chosen)
        except ToolError as exc:
            fail(f"{edl_file.relative_to(run_dir)}: {exc.message}", exc.hint, EXIT_FAILED)
        made.append(files)
        for fmt, path in files.files.items():
            table.add_row(files.video, fmt, path, ", ".join(files.not_kept[fmt]) or "-")
        if render and "mlt" in files.files:
            _round_trip(ctx, files, out)
    out.print(table)
    if record:  # the report links what was exported
        arts = [a.model_dump(mode="json") for f in made for a in f.artifacts()]
        paths = {a["path"] for a in arts}
        record["artifacts"] = [a for a in record.get("artifacts", []) if a.get("path") not in paths] + arts
        (run_dir / "result.json").write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str),
                                             encoding="utf-8")
    out.print(str(render_report(run_dir)))


def _round_trip(ctx, files, out: Console) -> None:
    """melt renders the MLT file; its render is held against ours (duration, frames, voices)."""
    from tools.video.edl import EDL
    from tools.video.timeline.roundtrip import compare, melt_render

    root = ctx.workspace.root
    mlt = root / files.files["mlt"]
    ours = root / files.video
    theirs = melt_render(mlt, mlt.with_name(mlt.stem + ".melt.mp4"), melt=ctx.settings.video.melt)
    edl = EDL.model_validate_json((root / files.edl).read_text(encoding="utf-8"))
    voices = {t.source: ctx.workspace.resolve_input(t.source) for t in edl.audio if t.source}
    fps = edl.fps or json.loads(mlt.with_suffix(".otio").read_text(encoding="utf-8"))["metadata"]["animstudio"]["fps"]
    rt = compare(ours, theirs, edl, float(fps), voices)
    (mlt.with_name(mlt.stem + ".roundtrip.json")).write_text(rt.model_dump_json(indent=2), encoding="utf-8")
    out.print(f"melt render {ctx.workspace.relative(theirs)}: duration {rt.duration_theirs:.3f}s vs ours "
              f"{rt.duration_ours:.3f}s ({rt.duration_frames_off:.1f} frames off); frame difference max "
              f"{rt.max_frame_diff:.2f}/255 over {len(rt.frames)} samples; voices {len(rt.voices)}, largest offset "
              f"{rt.max_voice_offset * 1000:.0f} ms")
