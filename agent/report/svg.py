"""Inline SVG for the run report: the plan's step DAG and the score chart (no JS, works offline)."""
from __future__ import annotations

from html import escape
from typing import Any

STATUS_COLOURS = {"ok": "#2f9e6e", "failed": "#d9480f", "skipped": "#adb5bd", "pending": "#868e96",
                  "running": "#4263eb"}
SCORER_COLOURS = ["#4263eb", "#12b886", "#f59f00", "#ae3ec9", "#e8590c", "#1098ad", "#5c940d"]


def _layers(steps: list[dict[str, Any]]) -> dict[str, int]:
    """Longest-path layering: a step sits one column right of its deepest dependency."""
    deps = {s["id"]: [d for d in s.get("depends_on", []) if d != s["id"]] for s in steps}
    layer: dict[str, int] = {}

    def depth(sid: str, seen: frozenset[str]) -> int:
        if sid in layer:
            return layer[sid]
        if sid in seen:  # a cycle in a hand-edited plan: break it instead of recursing forever
            return 0
        parents = [d for d in deps.get(sid, []) if d in deps]
        layer[sid] = 1 + max((depth(p, seen | {sid}) for p in parents), default=-1)
        return layer[sid]

    for s in steps:
        depth(s["id"], frozenset())
    return layer


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def plan_svg(steps: list[dict[str, Any]], status: dict[str, str] | None = None) -> str:
    """Lay the DAG out left→right in columns by dependency depth; edges are smooth curves."""
    if not steps:
        return ""
    status = status or {}
    layer = _layers(steps)
    columns: dict[int, list[dict[str, Any]]] = {}
    for s in steps:
        columns.setdefault(layer[s["id"]], []).append(s)
    box_w, box_h, gap_x, gap_y, pad = 178, 54, 56, 18, 16
    rows = max(len(c) for c in columns.values())
    width = pad * 2 + len(columns) * box_w + (len(columns) - 1) * gap_x
    height = pad * 2 + rows * box_h + (rows - 1) * gap_y
    pos: dict[str, tuple[float, float]] = {}
    for col, items in columns.items():
        offset = (height - (len(items) * box_h + (len(items) - 1) * gap_y)) / 2
        for row, s in enumerate(items):
            pos[s["id"]] = (pad + col * (box_w + gap_x), offset + row * (box_h + gap_y))
    parts = [f'<svg class="dag" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="plan diagram">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#868e96"/></marker></defs>']
    for s in steps:
        for d in s.get("depends_on", []):
            if d in pos and d != s["id"]:
                x1, y1 = pos[d][0] + box_w, pos[d][1] + box_h / 2
                x2, y2 = pos[s["id"]][0], pos[s["id"]][1] + box_h / 2
                mid = (x1 + x2) / 2
                parts.append(f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2 - 2:.0f},{y2:.0f}"'
                             ' fill="none" stroke="#adb5bd" stroke-width="1.6" marker-end="url(#arrow)"/>')
    for s in steps:
        x, y = pos[s["id"]]
        state = status.get(s["id"], "pending")
        colour = STATUS_COLOURS.get(state, STATUS_COLOURS["pending"])
        tip = escape(f"{s['id']}: {s.get('tool', '')} — {s.get('description', '')} [{state}]")
        parts.append(f'<g class="step step-{escape(state)}"><title>{tip}</title>'
                     f'<rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="9" fill="#fff" '
                     f'stroke="{colour}" stroke-width="2"/>'
                     f'<rect x="{x:.0f}" y="{y:.0f}" width="6" height="{box_h}" rx="3" fill="{colour}"/>'
                     f'<text x="{x + 16:.0f}" y="{y + 22:.0f}" class="step-id">{escape(_clip(s["id"], 20))}</text>'
                     f'<text x="{x + 16:.0f}" y="{y + 40:.0f}" class="step-tool">'
                     f'{escape(_clip(str(s.get("tool", "")), 24))}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def score_chart_svg(iterations: list[dict[str, Any]], threshold: float | None = None) -> str:
    """Grouped bars (one per scorer) for each iteration, plus the combined score and the threshold line."""
    if not iterations:
        return ""
    scorers: list[str] = []
    for it in iterations:
        for r in it.get("reports", []):
            if r.get("scorer") not in scorers:
                scorers.append(r.get("scorer"))
    bars = len(scorers) + 1
    group_w, bar_w, plot_h, left, top, bottom = max(90, bars * 20 + 30), 16, 200, 44, 16, 44
    legend_w = left + sum(22 + 7 * len(str(n)) for n in scorers + ["combined"])
    width = max(left + len(iterations) * group_w + 20, legend_w + 10)
    height = top + plot_h + bottom + 28
    y = lambda v: top + plot_h * (1 - max(0.0, min(1.0, float(v))))  # noqa: E731
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="quality scores per iteration">']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e9ecef"/>'
                     f'<text x="{left - 8}" y="{y(tick) + 4:.1f}" text-anchor="end" class="axis">{tick:g}</text>')
    for i, it in enumerate(iterations):
        gx = left + i * group_w + 12
        by_name = {r.get("scorer"): r for r in it.get("reports", [])}
        for k, name in enumerate(scorers):
            r = by_name.get(name)
            x = gx + k * (bar_w + 3)
            if r is None or r.get("skipped"):
                parts.append(f'<rect x="{x}" y="{y(0) - 3:.1f}" width="{bar_w}" height="3" fill="#dee2e6">'
                             f'<title>{escape(str(name))}: skipped</title></rect>')
                continue
            score = float(r.get("score", 0))
            colour = SCORER_COLOURS[k % len(SCORER_COLOURS)]
            parts.append(f'<rect x="{x}" y="{y(score):.1f}" width="{bar_w}" height="{y(0) - y(score):.1f}" '
                         f'fill="{colour}" opacity="{1 if r.get("passed") else 0.55}" rx="2">'
                         f'<title>{escape(str(name))}: {score:.2f}{"" if r.get("passed") else " (failed)"}</title></rect>')
        combined = it.get("combined")
        combined = combined.get("score") if isinstance(combined, dict) else combined
        if combined is not None:
            x = gx + len(scorers) * (bar_w + 3)
            parts.append(f'<rect x="{x}" y="{y(combined):.1f}" width="{bar_w}" height="{y(0) - y(combined):.1f}" '
                         f'fill="#212529" rx="2"><title>combined: {float(combined):.2f}</title></rect>'
                         f'<text x="{x + bar_w / 2:.1f}" y="{y(combined) - 5:.1f}" text-anchor="middle" '
                         f'class="value">{float(combined):.2f}</text>')
        parts.append(f'<text x="{gx + (bars * (bar_w + 3)) / 2:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                     f'class="axis">iteration {escape(str(it.get("iteration", i + 1)))}</text>')
    if threshold is not None:
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
                     f'stroke="#e03131" stroke-dasharray="5 4" stroke-width="1.5"/>'
                     f'<text x="{width - 12}" y="{y(threshold) - 5:.1f}" text-anchor="end" class="threshold">'
                     f'threshold {threshold:g}</text>')
    lx = left
    for k, name in enumerate(scorers + ["combined"]):
        colour = "#212529" if name == "combined" else SCORER_COLOURS[k % len(SCORER_COLOURS)]
        parts.append(f'<rect x="{lx}" y="{height - 18}" width="10" height="10" fill="{colour}" rx="2"/>'
                     f'<text x="{lx + 14}" y="{height - 9}" class="legend">{escape(str(name))}</text>')
        lx += 22 + 7 * len(str(name))
    parts.append("</svg>")
    return "".join(parts)
