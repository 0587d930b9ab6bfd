"""render_report(run_dir): one self-contained HTML page a person would rather read than the logs.

Reads runs/<id>/plan.json, trace.jsonl and result.json (each optional: a run killed half-way still
gets a report of what it did) and writes runs/<id>/report.html. Media are referenced by paths relative
to the run folder; small images are embedded as base64 so a copied report still shows them.
"""
from __future__ import annotations

import base64
import json
import mimetypes
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from agent.report.figures import figure, flatten
from agent.report.svg import plan_svg, score_chart_svg
from tools.core.trace import read_trace

TEMPLATES = Path(__file__).with_name("templates")
EMBED_MAX_BYTES = 150_000
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
VIDEO_EXT = {".mp4", ".webm", ".mov", ".m4v", ".mkv"}


def _load_json(path: Path) -> tuple[Any, str | None]:
    if not path.exists():
        return None, None
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"{path.name} could not be read ({exc})"


def _href(run_dir: Path, path: str) -> tuple[str, Path]:
    """A URL usable from report.html for an artifact path (workspace-relative or absolute)."""
    p = Path(path)
    full = p if p.is_absolute() else run_dir / p
    rel = os.path.relpath(full, run_dir)
    return Path(rel).as_posix(), full


def _image_src(run_dir: Path, path: str) -> str:
    href, full = _href(run_dir, path)
    if full.is_file() and full.stat().st_size <= EMBED_MAX_BYTES:
        mime = mimetypes.guess_type(full.name)[0] or "image/png"
        return f"data:{mime};base64," + base64.b64encode(full.read_bytes()).decode("ascii")
    return href


def _step_status(trace: list[dict[str, Any]]) -> dict[str, str]:
    """Last known state of each plan step from the trace (events carrying a `step` id)."""
    status: dict[str, str] = {}
    for e in trace:
        step = e.get("step") or e.get("step_id")
        if not step:
            continue
        if e.get("skipped"):
            status[step] = "skipped"
        elif "ok" in e:
            status[step] = "ok" if e["ok"] else "failed"
        elif e.get("status") in ("ok", "failed", "skipped"):
            status[step] = e["status"]
    return status


def _trace_rows(trace: list[dict[str, Any]]) -> list[dict[str, Any]]:
    start = next((e.get("ts") for e in trace if isinstance(e.get("ts"), (int, float))), None)
    rows = []
    for e in trace:
        ts = e.get("ts")
        bits = [str(e[k]) for k in ("node", "tool", "step") if e.get(k)]
        detail = e.get("summary") or e.get("error") or e.get("reason") or e.get("message") or ""
        if not detail and "score" in e:
            detail = f"score {e['score']}"
        rows.append({
            "t": f"+{ts - start:.1f}s" if isinstance(ts, (int, float)) and start is not None else "",
            "kind": e.get("kind", "?"),
            "what": " · ".join(bits),
            "detail": str(detail)[:300],
            "seconds": f"{e['seconds']:.2f}" if isinstance(e.get("seconds"), (int, float)) else "",
            "failed": e.get("ok") is False or "error" in str(e.get("kind", "")),
        })
    return rows


def _media(run_dir: Path, artifacts: list[dict[str, Any]]) -> dict[str, Any]:
    images, videos, others, timelines = [], [], [], []
    for a in artifacts:
        path = str(a.get("path", ""))
        kind = a.get("kind") or ""
        ext = Path(path).suffix.lower()
        meta = a.get("metadata") or {}
        href, full = _href(run_dir, path)
        item = {"path": path, "href": href, "kind": kind, "metadata": meta, "exists": full.exists(),
                "label": meta.get("scene") or meta.get("title") or meta.get("prompt") or Path(path).name}
        if kind == "timeline":  # an edit's timeline for an editor, with what its format cannot hold
            timelines.append(item)
        elif kind == "image" or ext in IMAGE_EXT:
            item["src"] = _image_src(run_dir, path) if full.exists() else ""
            images.append(item)
        elif kind == "video" or ext in VIDEO_EXT:
            videos.append(item)
        else:
            others.append(item)
    final = next((v for v in reversed(videos) if v["metadata"].get("final")), videos[-1] if videos else None)
    scenes = [i for i in images if i["metadata"].get("scene") is not None or "scene" in i["path"].lower()]
    generated = [i for i in images if i not in scenes]
    return {"final_video": final, "videos": videos, "scenes": scenes, "generated": generated, "others": others,
            "timelines": timelines}


def _scene_search(run_dir: Path, step_results: dict) -> list[dict[str, Any]]:
    """Each find_scene step: what was asked, the scene found and why, its confidence, the runner-up, and —
    when the best was not clearly ahead — the candidates with their keyframes."""
    out = []
    for step_id, res in (step_results or {}).items():
        found = (res or {}).get("result") if isinstance(res, dict) and res.get("tool") == "find_scene" else None
        if not isinstance(found, dict) or not found.get("matches"):
            continue

        def card(match: dict) -> dict[str, Any]:
            scene = match.get("scene") or {}
            key = scene.get("keyframe")
            return {"index": scene.get("index"), "start": scene.get("start"), "end": scene.get("end"),
                    "score": match.get("score"), "why": match.get("why", ""), "src": _image_src(run_dir, key) if key else "",
                    "said": [ln.get("text", "") for ln in scene.get("lines") or []],
                    "description": scene.get("description", "")}

        out.append({"step": step_id, "query": found.get("query", ""), "said": found.get("said", ""),
                    "best": card(found["matches"][0]), "confidence": found.get("confidence"),
                    "runner_up": card(found["runner_up"]) if found.get("runner_up") else None,
                    "ambiguous": bool(found.get("ambiguous")),
                    "candidates": [card(m) for m in found.get("candidates") or []]})
    return out


def _parody_scripts(step_results: dict) -> list[dict[str, Any]]:
    """Each write_parody_script step: its technique, the scene facts it was written from, and where every line
    came from (the model, a repair of the model's line, or the engine)."""
    out = []
    for step_id, res in (step_results or {}).items():
        got = (res or {}).get("result") if isinstance(res, dict) and res.get("tool") == "write_parody_script" else None
        if not isinstance(got, dict) or not isinstance(got.get("script"), dict):
            continue
        out.append({"step": step_id, "technique": got.get("technique", ""), "source": got.get("source", ""),
                    "why": got.get("why", ""), "facts": got.get("facts") or [],
                    "lines": [{"character": ln.get("character", ""), "text": ln.get("text", ""),
                               "start": ln.get("start", 0.0), "source": ln.get("source", "")}
                              for ln in got["script"].get("lines") or [] if isinstance(ln, dict)]})
    return out


def trace_span(trace_path: Path) -> tuple[float, float] | None:
    """(first, last) timestamp of a run's trace — the run's duration as its report states it (the studio's
    run list shows the same). Reads only the ends of the file."""
    def ts(line: bytes) -> float | None:
        try:
            value = json.loads(line).get("ts")
        except (ValueError, AttributeError):
            return None
        return float(value) if isinstance(value, (int, float)) else None

    try:
        with open(trace_path, "rb") as fh:
            first = ts(fh.readline())
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 65536))
            tail = [ln for ln in fh.read().splitlines() if ln.strip()]
    except OSError:
        return None
    last = next((t for t in map(ts, reversed(tail)) if t is not None), None)
    return (first, last) if first is not None and last is not None else None


def build_context(run_dir: Path) -> dict[str, Any]:
    run_dir = Path(run_dir)
    warnings: list[str] = []
    plan, err = _load_json(run_dir / "plan.json")
    warnings += [err] if err else []
    result, err = _load_json(run_dir / "result.json")
    warnings += [err] if err else []
    result = result if isinstance(result, dict) else {}
    plan = plan if isinstance(plan, dict) else {}
    trace = list(read_trace(run_dir / "trace.jsonl"))
    quality = [{**q, "reports": flatten([r for r in q.get("reports", []) if isinstance(r, dict)])}
               for q in result.get("quality", []) if isinstance(q, dict)]
    last = quality[-1] if quality else None
    combined = (last or {}).get("combined")
    score = combined.get("score") if isinstance(combined, dict) else combined
    threshold = result.get("threshold") or (combined.get("threshold") if isinstance(combined, dict) else None)
    passed = combined.get("passed") if isinstance(combined, dict) else (
        score is not None and threshold is not None and score >= threshold)
    status = result.get("status") or ("passed" if passed else "failed" if last else "incomplete" if not result
                                      else "done")
    errors = [e for e in trace if e.get("ok") is False or "error" in str(e.get("kind", ""))]
    started, ended = trace_span(run_dir / "trace.jsonl") or (None, None)
    steps = [s for s in plan.get("steps", []) if isinstance(s, dict) and s.get("id")]
    return {
        "run_id": run_dir.name,
        "request": result.get("request") or plan.get("goal") or "",
        "final_answer": result.get("final_answer") or "",
        "status": status,
        "score": score,
        "threshold": threshold,
        "iterations": len(quality),
        "started": datetime.fromtimestamp(started, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if started else "",
        "duration": f"{ended - started:.1f}s" if started and ended else "",
        "plan": plan,
        "steps": steps,
        "plan_svg": Markup(plan_svg(steps, _step_status(trace))),
        "chart_svg": Markup(score_chart_svg(quality, threshold)),
        "quality": quality,
        "evidence": [e for e in result.get("evidence", []) if isinstance(e, dict)],
        "media": _media(run_dir, [a for a in result.get("artifacts", []) if isinstance(a, dict)]),
        "scene_search": _scene_search(run_dir, result.get("step_results") or {}),
        "parody_scripts": _parody_scripts(result.get("step_results") or {}),
        "trace": _trace_rows(trace),
        "errors": len(errors),
        "warnings": warnings,
    }


def render_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write `run_dir/report.html` (or `out`) and return its path."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f"run folder not found: {run_dir}")
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda v: "–" if v is None else f"{float(v):.2f}"
    env.filters["figure"] = figure
    html = env.get_template("report.html.j2").render(**build_context(run_dir))
    target = Path(out) if out else run_dir / "report.html"
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, target)
    return target
