"""The typed result of a run, with a notebook (HTML) rendering."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field


class RunResult(BaseModel):
    run_id: str
    run_dir: str
    request: str
    film: str | None = None
    status: str = "done"
    final_answer: str = ""
    plan: dict[str, Any] = Field(default_factory=dict)
    step_results: dict[str, dict] = Field(default_factory=dict)
    artifacts: list[dict] = Field(default_factory=list)
    quality: list[dict] = Field(default_factory=list)
    evidence: list[dict] = Field(default_factory=list)
    iterations: int = 1
    trace_path: str = ""
    report_path: str | None = None
    seconds: float = 0.0
    review: dict[str, Any] | None = None  # the pending review when status is "awaiting_review"
    question: dict[str, Any] | None = None  # the pending question when status is "needs_input"

    @property
    def score(self) -> float | None:
        return self.quality[-1]["combined"] if self.quality else None

    @property
    def passed(self) -> bool:
        return bool(self.quality and self.quality[-1].get("passed"))

    def artifact_paths(self, kind: str | None = None) -> list[Path]:
        root = Path(self.run_dir)
        return [(root / a["path"]) if not Path(a["path"]).is_absolute() else Path(a["path"])
                for a in self.artifacts if kind is None or a.get("kind") == kind]

    def summary_json(self) -> dict[str, Any]:
        """The `--json` view: run id, folder, answer, artifacts with absolute paths, scores."""
        return {
            "run_id": self.run_id, "run_dir": self.run_dir, "status": self.status, "request": self.request,
            "final_answer": self.final_answer, "score": self.score, "passed": self.passed,
            "iterations": self.iterations, "seconds": self.seconds,
            "artifacts": [{"path": str(p), "kind": a.get("kind"), "metadata": a.get("metadata", {})}
                          for p, a in zip(self.artifact_paths(), self.artifacts)],
            "scores": [{"iteration": q["iteration"], "combined": q["combined"],
                        "scorers": {r["scorer"]: r["score"] for r in q.get("reports", [])}} for q in self.quality],
            "trace": self.trace_path, "report": self.report_path,
            **({"review": self.review} if self.review is not None else {}),
            **({"question": self.question} if self.question is not None else {}),
        }

    def _repr_html_(self) -> str:
        e = html.escape
        steps = "".join(
            f"<tr><td>{e(s.get('id', ''))}</td><td><code>{e(s.get('tool', ''))}</code></td>"
            f"<td>{'✅' if self.step_results.get(s.get('id'), {}).get('ok') else '❌'}</td>"
            f"<td>{e(str(self.step_results.get(s.get('id'), {}).get('summary') or self.step_results.get(s.get('id'), {}).get('error') or ''))[:160]}</td></tr>"
            for s in self.plan.get("steps", []))
        arts = "".join(f"<li><code>{e(str(p))}</code> ({e(a.get('kind', ''))})</li>"
                       for p, a in zip(self.artifact_paths(), self.artifacts))
        scores = "".join(f"<li>iteration {q['iteration']}: <b>{q['combined']:.2f}</b> "
                         + ", ".join(f"{e(r['scorer'])} {r['score']:.2f}" for r in q.get("reports", [])) + "</li>"
                         for q in self.quality)
        video = next((p for p in self.artifact_paths("video")), None)
        return (f"<div style='font-family:sans-serif'><h3>Run {e(self.run_id)} — {e(self.status)}</h3>"
                f"<p><b>Request:</b> {e(self.request)}</p><p>{e(self.final_answer).replace(chr(10), '<br>')}</p>"
                f"<h4>Plan ({e(self.plan.get('strategy', ''))}, workflow {e(str(self.plan.get('workflow')))})</h4>"
                f"<table><tr><th>step</th><th>tool</th><th>ok</th><th>result</th></tr>{steps}</table>"
                f"<h4>Scores</h4><ul>{scores or '<li>none</li>'}</ul><h4>Artifacts</h4><ul>{arts or '<li>none</li>'}</ul>"
                + (f"<video src='{e(str(video))}' controls width='480'></video>" if video else "")
                + (f"<p>Report: <code>{e(self.report_path)}</code></p>" if self.report_path else "") + "</div>")
