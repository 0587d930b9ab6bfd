"""Score reports: what each scorer returns, and how they combine into one verdict.

Every problem is a `Finding` (tools/core/findings.py): a code, the blame that says what to redo, and
the human words. `blame` of a report is the union of its findings' blame, so the agent's reflect
step redoes only the failing steps instead of the whole plan.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from tools.core.findings import Code, Finding


class ScoreReport(BaseModel):
    scorer: str
    score: float = Field(ge=0.0, le=1.0)
    passed: bool
    reasons: list[str] = Field(default_factory=list)
    metrics: dict[str, Any] = Field(default_factory=dict)
    blame: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    skipped: bool = False  # a skipped scorer is left out of the weighted mean; `reasons` says why

    @field_validator("score", mode="before")
    @classmethod
    def _clamp(cls, v: float) -> float:
        return min(1.0, max(0.0, float(v)))

    @classmethod
    def skip(cls, scorer: str, why: str, **metrics: Any) -> "ScoreReport":
        return cls(scorer=scorer, score=0.0, passed=True, reasons=[f"skipped: {why}"], metrics=metrics, skipped=True)

    @classmethod
    def failure(cls, scorer: str, code: Code, message: str, **data: Any) -> "ScoreReport":
        """A scorer that could not read its input fails with that reason (never an exception)."""
        finding = Finding(code=code, message=message, data=data)
        return cls(scorer=scorer, score=0.0, passed=False, reasons=[message], blame=[finding.blame],
                   findings=[finding])


class CombinedReport(BaseModel):
    score: float
    passed: bool
    threshold: float
    weights_used: dict[str, float]
    reports: list[ScoreReport]
    blame: list[str]
    reasons: list[str]
    findings: list[Finding] = Field(default_factory=list)  # those of the failing scorers

    def summary(self) -> str:
        parts = [f"{r.scorer}={'skip' if r.skipped else f'{r.score:.2f}'}" for r in self.reports]
        verdict = "PASS" if self.passed else "FAIL"
        blame = f"; change: {', '.join(self.blame)}" if self.blame else ""
        return f"quality {self.score:.2f} {verdict} (threshold {self.threshold:.2f}): {', '.join(parts)}{blame}"


class Check:
    """Accumulates weighted sub-checks of one scorer into a score, findings and blame."""

    def __init__(self, scorer: str, pass_score: float = 0.7):
        self.scorer, self.pass_score = scorer, pass_score
        self.parts: list[tuple[float, float]] = []
        self.findings: list[Finding] = []
        self.metrics: dict[str, Any] = {}
        self.hard_fail = False

    def add(self, value: float, weight: float, problem: str | None = None, code: Code | None = None,
            *, hard: bool = False, fail_below: float = 0.5, blame: str | None = None, **data: Any) -> None:
        """Add a sub-score in [0, 1]; below 1 the problem is recorded as a finding with `code`.

        `hard`: a value under `fail_below` fails the scorer whatever the weighted mean says.
        `blame` overrides the code's default blame; `data` says where (line, scene, name…).
        """
        value = min(1.0, max(0.0, value))
        self.parts.append((value, weight))
        if value < 0.999 and problem:
            self.findings.append(Finding(code=code or Code.note, message=problem, blame=blame or "", data=data))
            if hard and value < fail_below:
                self.hard_fail = True

    def report(self) -> ScoreReport:
        total = sum(w for _, w in self.parts)
        score = sum(v * w for v, w in self.parts) / total if total else 0.0
        passed = score >= self.pass_score and not self.hard_fail
        reasons = [f.message for f in self.findings] or ["all checks passed"]
        blame = list(dict.fromkeys(f.blame for f in self.findings if f.blame))
        return ScoreReport(scorer=self.scorer, score=round(score, 4), passed=passed, reasons=reasons,
                           metrics=self.metrics, blame=blame if not passed or score < 1 else [],
                           findings=self.findings)


def linear(value: float, good: float, bad: float) -> float:
    """1 at `good`, 0 at `bad`, linear between (works for either direction)."""
    if good == bad:
        return 1.0 if value == good else 0.0
    return min(1.0, max(0.0, (value - bad) / (good - bad)))


def combine(reports: list[ScoreReport], weights: dict[str, float], threshold: float) -> CombinedReport:
    """Weighted mean over the scorers that ran; skipped ones (and weight 0) are left out and say why."""
    used = {r.scorer: weights.get(r.scorer, 0.0) for r in reports if not r.skipped and weights.get(r.scorer, 0.0) > 0}
    total = sum(used.values())
    score = sum(r.score * used[r.scorer] for r in reports if r.scorer in used) / total if total else 0.0
    reasons = [f"{r.scorer}: {reason}" for r in reports for reason in r.reasons
               if r.skipped or not r.passed or reason != "all checks passed"]
    if not used:
        reasons.append("no scorer could run; nothing was evaluated")
    failing = [r for r in reports if r.scorer in used and not r.passed]
    blame = list(dict.fromkeys(b for r in failing for b in r.blame))
    passed = bool(used) and score >= threshold and not failing
    return CombinedReport(score=round(score, 4), passed=passed, threshold=threshold,
                          weights_used={k: round(v / total, 4) for k, v in used.items()} if total else {},
                          reports=reports, blame=blame, reasons=reasons,
                          findings=[f for r in failing for f in r.findings])
