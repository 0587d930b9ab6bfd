"""The script scorer: an LLM judge with a rubric (relevance, humour, character consistency).

It asks for a structured verdict through tools/core/structured_output.invoke_structured. A judge that cannot judge is
worse than none: with no model, with the tiny embedded default model, or when the verdict fails
validation, the scorer is skipped (left out of the combined score) and says why.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tools.core.findings import Blame, Code, Finding
from tools.core.prompts import PromptBook
from tools.core.settings import Settings
from tools.core.structured_output import StructuredOutputError, invoke_structured
from tools.core.trace import NULL_TRACE, Trace
from tools.quality.report import ScoreReport

PROMPTS = PromptBook.beside(__file__)

CRITERIA = {"relevance": 0.4, "humour": 0.35, "character_consistency": 0.25}


class JudgeVerdict(BaseModel):
    relevance: int = Field(ge=1, le=5)
    humour: int = Field(ge=1, le=5)
    character_consistency: int = Field(ge=1, le=5)
    issues: list[str] = Field(default_factory=list, max_length=8)
    feedback: str = ""


def judge_unavailable(settings: Settings, llm: Any) -> str | None:
    """Why the judge cannot be trusted here, or None when it can run."""
    if (settings.llm.backend == "local" and settings.llm.local.model_path is None
            and not settings.quality.judge_on_default_local):
        return ("the embedded default model (SmolLM2-135M) is too small to judge humour; configure a larger "
                "model (llm.local.model_path or llm.backend=openai) or set quality.judge_on_default_local=true")
    if llm is None:
        return "no LLM is configured (llm.backend)"
    return None


def score_script(script: str, request: str, settings: Settings, llm: Any, characters: str = "",
                 trace: Trace = NULL_TRACE) -> ScoreReport:
    if not script.strip():
        return ScoreReport.failure("script", Code.script_empty, "the script is empty")
    why = judge_unavailable(settings, llm)
    if why:
        return ScoreReport.skip("script", why)
    from langchain_core.messages import HumanMessage, SystemMessage

    cast = PROMPTS("judge_characters", characters=characters) + "\n" if characters else ""
    prompt = PROMPTS("judge_request", request=request or "(not given)", characters=cast, script=script[:6000])
    try:
        messages = [SystemMessage(content=PROMPTS("judge_rubric")), HumanMessage(content=prompt)]
        verdict = invoke_structured(llm, messages, JudgeVerdict, retries=settings.llm.structured_retries, trace=trace,
                                    purpose="quality.judge")
    except StructuredOutputError as exc:
        return ScoreReport.skip("script", f"the judge's answer failed validation ({str(exc)[:160]})")
    marks = {k: getattr(verdict, k) for k in CRITERIA}
    score = sum(CRITERIA[k] * (v - 1) / 4 for k, v in marks.items())
    weakest = min(marks, key=marks.get)
    passed = score >= settings.quality.scorer_pass and min(marks.values()) >= 2
    reasons = [f"{k.replace('_', ' ')} {v}/5" for k, v in marks.items()] + verdict.issues[:5]
    if verdict.feedback:
        reasons.append(verdict.feedback)
    found = [] if passed else [Finding(code=Code.judge_low, message=r, data={"weakest": weakest}) for r in reasons]
    return ScoreReport(scorer="script", score=round(score, 4), passed=passed, reasons=reasons,
                       metrics={**marks, "weakest": weakest}, blame=[] if passed else [Blame.script.value],
                       findings=found)
