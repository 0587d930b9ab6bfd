"""One line of figures per scorer for the run report: what each scorer measured, not only its score."""
from __future__ import annotations

from typing import Any, Callable


def _pct(v: Any) -> str:
    return f"{float(v):.0%}" if isinstance(v, (int, float)) else "?"


def _num(v: Any, fmt: str = ".2f") -> str:
    return format(float(v), fmt) if isinstance(v, (int, float)) else "?"


FIGURES: dict[str, Callable[[dict], str]] = {
    "video": lambda m: f"{_num(m.get('duration'), '.1f')} s, {m.get('width')}x{m.get('height')}, black "
                       f"{_num(m.get('black_s'), '.1f')} s, frozen {_num(m.get('frozen_s'), '.1f')} s",
    "audio": lambda m: f"{_num(m.get('integrated_lufs'), '.1f')} LUFS, true peak {_num(m.get('true_peak_db'), '.1f')} "
                       f"dBTP, {_num(m.get('silence_s'), '.1f')} s of silence",
    "speech": lambda m: (f"{len(m.get('lines', [])) - int(m.get('failed_lines', 0))}/{len(m.get('lines', []))} lines "
                         f"heard as written, mean error {_num(m.get('mean_error'))}") if "lines" in m else
                        f"energy only: {m.get('line_levels_db')} dB",
    "subtitles": lambda m: f"{m.get('cues')} cues, fastest {m.get('max_cps')} chars/s, longest line "
                           f"{m.get('max_line_chars')} chars",
    "burned_subtitles": lambda m: f"{m.get('seen')}/{m.get('checked')} cues seen in the picture (OCR: {m.get('ocr')})",
    "scene_fit": lambda m: f"{_pct(m.get('in_scene_share'))} of the footage from scene #{m.get('scene')}; request "
                           f"similarity {_num(m.get('request_similarity'))} vs best other "
                           f"{_num(m.get('best_other_similarity'))}",
    "request_fit": lambda m: f"script/scene similarity {_num(m.get('scene_similarity'))} vs best other "
                             f"{_num(m.get('best_other_similarity'))}; speakers {', '.join(m.get('speakers', []))}",
    "script": lambda m: f"checklist {m.get('yes')}/{m.get('asked')} yes: " + "; ".join(
        f"{c['question']}: {c['answer']}" + (f" ({c['evidence']})" if c.get("evidence") else "")
        + ("" if c.get("scored", True) else " [not scored]") for c in m.get("checklist", [])),
    "answer": lambda m: f"relevance {_num(m.get('relevance'))}, {m.get('tool_errors', 0)}/{m.get('tool_calls', 0)} "
                        f"tool calls failed, {len(m.get('files_named', []))} files named",
    "completion": lambda m: f"{m.get('succeeded')}/{m.get('steps')} steps succeeded",
}


def figure(report: dict) -> str:
    """The scorer's measured figures in words ('' when it has none or was skipped)."""
    make = FIGURES.get(str(report.get("scorer")))
    metrics = report.get("metrics") or {}
    if make is None or report.get("skipped") or not metrics:
        return ""
    try:
        return make(metrics)
    except (TypeError, ValueError, KeyError):
        return ""


def flatten(reports: list[dict]) -> list[dict]:
    """A workflow scorer's own reports (e.g. the parody gate's video, speech, scene fit…) after it."""
    out: list[dict] = []
    for report in reports:
        out.append(report)
        out += [r for r in report.get("reports") or [] if isinstance(r, dict)]
    return out
