"""The script scorer: an LLM judge that answers a checklist of yes/no questions about the actual lines.

A 1–5 rating from a small model clusters in the middle: writer-1.5b rated every parody script 3/5 on every
criterion, good or bad, so the score never moved and the gate could not pass. What a small model can do is
answer concrete questions about a text in front of it (the checklist approach of LLM evaluation: a rubric
broken into binary questions, the score being the share of yeses). For every line: what in the scene, at
the line's time, does it react to (evidence first, then the yes/no), and which joke technique does it use
(or none); for the script: does it fit the kind of parody and tone the request asks for, and do its
speakers fit the scene. A yes about the scene counts only with its evidence. Every answer goes into the
report (metrics.checklist) and each no becomes a finding naming the line, which the writer's redo reads.

A judge that cannot judge is worse than none: with no model, with the tiny embedded default model, or when
the answer fails validation, the scorer is skipped (left out of the combined score) and says why.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from tools.core.findings import Blame, Code, Finding
from tools.core.prompts import PromptBook
from tools.core.settings import Settings
from tools.core.structured_output import StructuredOutputError, invoke_structured
from tools.core.trace import NULL_TRACE, Trace
from tools.quality.report import ScoreReport

PROMPTS = PromptBook.beside(__file__)

MAX_LINES = 8  # lines judged one by one (a parody has 3–8); a longer script is judged on its first eight
TECHNIQUES = ("exaggeration", "understatement", "irony", "wordplay", "absurd explanation", "mislabelling the picture",
              "deadpan", "mock insult", "surprise", "none")
Technique = Literal[TECHNIQUES]  # type: ignore[valid-type]
NO_EVIDENCE = {"", "none", "nothing", "n/a", "no", "-", "null", "unknown"}


class Moment(BaseModel):
    """What happens in the result between two times (output seconds): a cut, a movement, who is on screen,
    a line the film itself says."""

    start: float
    end: float
    what: str


class JudgedLine(BaseModel):
    speaker: str = ""
    text: str
    start: float | None = None
    end: float | None = None
    on_screen: str = ""  # what the picture and sound show at the line's time ("" = unknown)


class LineAnswer(BaseModel):
    reacts_to: str = Field("", max_length=80)  # evidence first: what of the scene the line is about
    about_scene: bool
    technique: Technique


def checklist_model(lines: int) -> type[BaseModel]:
    """The answer's schema: one LineAnswer per judged line, then the script questions. The count is in the JSON
    schema (a grammar enforces it) but not in validation: a line left without an answer counts as a no."""
    return create_model("ScriptChecklist", lines=(list[LineAnswer], Field(
                            max_length=MAX_LINES, json_schema_extra={"minItems": lines, "maxItems": lines})),
                        fits_request=(bool, ...), speakers_fit=(bool, ...))


def judge_unavailable(settings: Settings, llm: Any) -> str | None:
    """Why the judge cannot be trusted here, or None when it can run."""
    if (settings.llm.backend == "local" and settings.llm.local.model_path is None
            and not settings.quality.judge_on_default_local):
        return ("the embedded default model (SmolLM2-135M) is too small to judge humour; configure a larger "
                "model (llm.local.model_path or llm.backend=openai) or set quality.judge_on_default_local=true")
    if llm is None:
        return "no LLM is configured (llm.backend)"
    return None


def lines_of_script(script: str) -> list[JudgedLine]:
    """"Speaker: line" per line → judged lines (no times: nothing known about the picture)."""
    out = []
    for row in script.splitlines():
        who, sep, text = row.partition(":")
        if row.strip():
            out.append(JudgedLine(speaker=who.strip() if sep and len(who) < 40 else "",
                                  text=(text if sep and len(who) < 40 else row).strip()))
    return out


def on_screen_at(moments: list[Moment], start: float, end: float) -> str:
    """The moments around a line (a second before it to just after it), in words."""
    near = [m.what for m in moments if m.start <= end + 0.3 and m.end >= start - 1.0]
    return "; ".join(dict.fromkeys(near))


def _line_rows(lines: list[JudgedLine]) -> str:
    rows = []
    for i, ln in enumerate(lines, 1):
        when = f" ({ln.start:.1f}-{ln.end:.1f}s)" if ln.start is not None and ln.end is not None else ""
        who = f"{ln.speaker}: " if ln.speaker else ""
        then = f"\n   On screen then: {ln.on_screen}" if ln.on_screen else ""
        rows.append(f'{i}.{when} {who}"{ln.text}"{then}')
    return "\n".join(rows)


def _quote(text: str) -> str:
    return f'"{text[:60]}{"…" if len(text) > 60 else ""}"'


def score_script(script: str, request: str, settings: Settings, llm: Any, characters: str = "",
                 trace: Trace = NULL_TRACE, lines: list[JudgedLine] | None = None,
                 facts: list[str] | None = None) -> ScoreReport:
    """`lines`: the script's lines with their times and what is on screen then (default: parsed from `script`);
    `facts`: what the scene shows and says, one per line (place, who is on screen, the film's own lines)."""
    if not script.strip():
        return ScoreReport.failure("script", Code.script_empty, "the script is empty")
    why = judge_unavailable(settings, llm)
    if why:
        return ScoreReport.skip("script", why)
    from langchain_core.messages import HumanMessage, SystemMessage

    judged = [ln for ln in (lines or lines_of_script(script)) if ln.text.strip()][:MAX_LINES]
    if not judged:
        return ScoreReport.failure("script", Code.script_empty, "the script has no line to judge")
    cast = PROMPTS("judge_characters", characters=characters) + "\n" if characters else ""
    scene = "\n- ".join(facts or []) or "(not measured: judge the lines by the request)"
    prompt = PROMPTS("judge_request", request=request or "(not given)", characters=cast, scene=scene,
                     lines=_line_rows(judged), techniques=", ".join(TECHNIQUES))
    schema = checklist_model(len(judged))
    try:
        messages = [SystemMessage(content=PROMPTS("judge_checklist")), HumanMessage(content=prompt)]
        answer = invoke_structured(llm, messages, schema, retries=settings.llm.structured_retries, trace=trace,
                                   purpose="quality.judge")
    except StructuredOutputError as exc:
        return ScoreReport.skip("script", f"the judge's answer failed validation ({str(exc)[:160]})")
    return _report(judged, answer.lines, answer.fits_request, answer.speakers_fit, settings.quality.scorer_pass)


def _report(judged: list[JudgedLine], answers: list[LineAnswer], fits_request: bool, speakers_fit: bool,
            pass_score: float) -> ScoreReport:
    checklist: list[dict[str, Any]] = []
    found: list[Finding] = []

    def ask(kind: str, question: str, yes: bool, evidence: str, problem: str, **data: Any) -> None:
        checklist.append({"kind": kind, "question": question, "answer": "yes" if yes else "no", "evidence": evidence})
        if not yes:
            found.append(Finding(code=Code.judge_low, message=problem, data={"question": kind, **data}))

    unanswered = LineAnswer(reacts_to="(no answer)", about_scene=False, technique="none")
    for i, ln in enumerate(judged, 1):
        a = answers[i - 1] if i <= len(answers) else unanswered
        cited = a.reacts_to.strip().strip(".").lower() not in NO_EVIDENCE
        at = f" at {ln.start:.1f}s" if ln.start is not None else ""
        then = f" ({ln.on_screen[:80]})" if ln.on_screen else ""
        ask("scene", f"line {i} reacts to what is on screen or said{at}", a.about_scene and cited, a.reacts_to,
            f"line {i} {_quote(ln.text)} is not about what happens on screen{at}{then}: write about that moment",
            line=i)
        ask("joke", f"line {i} uses a joke technique", a.technique != "none", a.technique,
            f"line {i} {_quote(ln.text)} is not a joke (no comic technique): exaggerate, misread or undercut "
            f"what is seen", line=i)
    ask("request", "the script fits the request's kind of parody and tone", fits_request, "",
        "the script does not fit the kind of parody and tone the request asks for")
    ask("speakers", "the speakers fit the scene and keep one attitude each", speakers_fit, "",
        "the speakers do not fit the scene (its characters or a narrator, one attitude each)")
    yes = sum(c["answer"] == "yes" for c in checklist)
    score = yes / len(checklist)
    scene_yes, joke_yes = (sum(c["answer"] == "yes" for c in checklist if c["kind"] == k) for k in ("scene", "joke"))
    passed = score >= pass_score
    metrics = {"checklist": checklist, "yes": yes, "asked": len(checklist), "lines": len(judged),
               "scene_share": round(scene_yes / len(judged), 4), "joke_share": round(joke_yes / len(judged), 4),
               "fits_request": fits_request, "speakers_fit": speakers_fit}
    reasons = [f"checklist {yes}/{len(checklist)} yes: {scene_yes}/{len(judged)} lines about the scene, "
               f"{joke_yes}/{len(judged)} jokes, request {'yes' if fits_request else 'no'}, "
               f"speakers {'yes' if speakers_fit else 'no'}"] + [f.message for f in found[:6]]
    return ScoreReport(scorer="script", score=round(score, 4), passed=passed, reasons=reasons, metrics=metrics,
                       blame=[] if passed else [Blame.script.value], findings=[] if passed else found)
