"""The script scorer: an LLM judge that answers questions about each actual line, checked by planted controls.

A 1–5 rating from a small model clusters in the middle: writer-1.5b rated every parody script 3/5 on every
criterion, good or bad, so the score never moved and the gate could not pass. The judge now answers a
checklist per line (the score is the share of yeses): *what does the line talk about* (its topic, in a few of
its words), *is that something this scene shows or says* (the scene's facts and what is on screen at the
line's time are in the prompt), *which joke technique does it use* ("plain statement" = none). One short call
per line: asked about a list of lines at once, a small model answers the options in their order.

Three planted control lines with known answers are judged the same way (plain and about the scene; an obvious
exaggeration about the scene; plain and about office chores). A question whose controls the model gets wrong
does not count as the model's verdict: writer-1.5b names topics well ("tax return", "printer jam") but says
"in this scene" for all of them, so when its verdict fails the controls, the topic it named (or else the line's
own words) is matched with the scene's things instead (a content word in common: the place, who is on screen
and the cast, what is said), and when that fails too the question is not scored.
Every answer is in the report (metrics.checklist, metrics.controls) and each no is a finding naming its
line, which the writer's redo reads.

A judge that cannot judge is worse than none: with no model, with the tiny embedded default model, when an
answer fails validation or when no question passes its controls, the scorer is skipped and says why.
"""
from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.core.findings import Blame, Code, Finding
from tools.core.prompts import PromptBook
from tools.core.settings import Settings
from tools.core.structured_output import StructuredOutputError, invoke_structured
from tools.core.trace import NULL_TRACE, Trace
from tools.quality.report import ScoreReport

PROMPTS = PromptBook.beside(__file__)

MAX_LINES = 8  # lines judged one by one (a parody has 3–8); a longer script is judged on its first eight
MAX_THINGS = 12  # things of the scene shown to the judge
PLAIN = "plain statement"
TECHNIQUES = (PLAIN, "exaggeration", "understatement", "sarcasm", "wordplay", "absurd explanation",
              "mislabelling the picture", "deadpan", "mock insult", "surprise")
OFF_TOPIC = ("Remember to renew the car insurance.", "The printer upstairs is jammed again.",
             "Quarterly figures look stable this year.", "Please file the invoices by Monday.")


class Moment(BaseModel):
    """What happens in the result between two times (output seconds): a cut, a movement, who is on screen,
    a line the film itself says."""

    start: float
    end: float
    what: str


IN_SCENE, ELSEWHERE = "in this scene", "something else"


class LineAnswer(BaseModel):
    topic: str = Field(max_length=40)  # what the line talks about, in a few of its words (read first)
    verdict: Literal["something else", "in this scene"]
    technique: Literal[TECHNIQUES]  # type: ignore[valid-type]


class JudgedLine(BaseModel):
    speaker: str = ""
    text: str
    start: float | None = None
    end: float | None = None
    on_screen: str = ""  # what the picture and sound show at the line's time ("" = unknown)


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
            labelled = bool(sep) and len(who) < 40
            out.append(JudgedLine(speaker=who.strip() if labelled else "", text=(text if labelled else row).strip()))
    return out


def on_screen_at(moments: list[Moment], start: float, end: float) -> str:
    """The moments around a line (a second before it to just after it), in words."""
    near = [m.what for m in moments if m.start <= end + 0.3 and m.end >= start - 1.0]
    return "; ".join(dict.fromkeys(near))


def scene_things(lines: list[JudgedLine], facts: list[str]) -> list[str]:
    """What the scene shows and says (its facts, then what happens while the lines are spoken)."""
    things = [f.split(": ", 1)[-1] if f.startswith(("the place: ", "on screen: ")) else f for f in facts]
    things += [w.strip() for ln in lines for w in ln.on_screen.split(";") if w.strip()]
    return list(dict.fromkeys(t for t in things if t))[:MAX_THINGS]


_GENERIC = frozenset("""the and with from that this these those there here what when where which who whom into onto over
under about some someone something thing things one ones film says said screen scene shot very just also then than
its it's his her their our your you they she him them was were are is be been being not but for""".split())


def _stems(text: str) -> set[str]:
    """Content words cut to their first five letters ("spins"/"spinning" → "spins"/"spinn": prefix-compared)."""
    return {w[:5] for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in _GENERIC}


def matched_thing(topic: str, things: list[str]) -> str:
    """The thing of the scene a topic names (a content word in common, compared on its first letters), or ""."""
    mine = _stems(topic)
    for thing in things:
        if any(a[:4] == b[:4] for a in mine for b in _stems(thing)):
            return thing
    return ""


def topic_of(answer_topic: str, line: str) -> str:
    """The topic the model named when it is words of the line; else the line itself (writer-1.5b once gave
    "searching for someone", copied from the scene, as the topic of "Quarterly figures look stable")."""
    mine, said = _stems(answer_topic), _stems(line)
    return answer_topic if mine and len({w for w in mine if any(w[:4] == x[:4] for x in said)}) * 2 >= len(mine) else line


def _subject(thing: str) -> str:
    """A thing of the scene as the subject of a control line ("the brown one on screen" → "the brown one")."""
    return thing.removesuffix(" on screen").split(" (")[0].strip().strip('"') or thing


class _Control(BaseModel):
    text: str
    in_scene: bool
    joke: bool


def _controls(things: list[str], key: str) -> list[_Control]:
    """Lines whose right answers are known: plain and about the scene, an obvious exaggeration about the scene,
    plain and about office chores."""
    k = int(hashlib.sha256(key.encode()).hexdigest()[:6], 16)
    subject = next((_subject(t) for t in things if not t.startswith("the film says")), "the scene")
    return [_Control(text=f"This is {subject}.", in_scene=True, joke=False),
            _Control(text=f"{subject[:1].upper()}{subject[1:]}: easily the greatest thing ever filmed in the history "
                          f"of the universe.", in_scene=True, joke=True),
            _Control(text=OFF_TOPIC[k % len(OFF_TOPIC)], in_scene=False, joke=False)]


def score_script(script: str, request: str, settings: Settings, llm: Any, trace: Trace = NULL_TRACE,
                 lines: list[JudgedLine] | None = None, facts: list[str] | None = None) -> ScoreReport:
    """`lines`: the script's lines with their times and what is on screen then (default: parsed from `script`);
    `facts`: what the scene shows and says, one per line (place, who is on screen, the film's own lines)."""
    if not script.strip():
        return ScoreReport.failure("script", Code.script_empty, "the script is empty")
    why = judge_unavailable(settings, llm)
    if why:
        return ScoreReport.skip("script", why)
    judged = [ln for ln in (lines or lines_of_script(script)) if ln.text.strip()][:MAX_LINES]
    if not judged:
        return ScoreReport.failure("script", Code.script_empty, "the script has no line to judge")
    from langchain_core.messages import HumanMessage, SystemMessage

    things = scene_things(judged, list(facts or []))
    controls = _controls(things, "|".join(ln.text for ln in judged))
    # One short call per line: the common prefix (instructions, scene) is computed once by the backend's prompt
    # cache, and a list of lines answered in one go tempts a small model to answer the options in their order.
    system = PROMPTS("judge_line", techniques=", ".join(TECHNIQUES))
    scene = "\n- ".join(things) or "(not described: judge by the request)"
    answers: list[LineAnswer] = []
    try:
        for ln in [*judged, *[JudgedLine(speaker="Narrator", text=c.text) for c in controls]]:
            user = PROMPTS("judge_line_request", request=request or "(not given)", scene=scene,
                           on_screen=ln.on_screen or "(not measured)", speaker=ln.speaker or "someone", line=ln.text)
            answers.append(invoke_structured(llm, [SystemMessage(content=system), HumanMessage(content=user)],
                                             LineAnswer, retries=settings.llm.structured_retries, trace=trace,
                                             purpose="quality.judge"))
    except StructuredOutputError as exc:
        return ScoreReport.skip("script", f"the judge's answer failed validation ({str(exc)[:160]})")
    return _report(judged, things, answers[:len(judged)], list(zip(controls, answers[len(judged):])),
                   settings.quality.scorer_pass)


def _report(judged: list[JudgedLine], things: list[str], answers: list[LineAnswer],
            controls: list[tuple[_Control, LineAnswer]], pass_score: float) -> ScoreReport:
    # Which verdicts the controls let count: the model's own on the scene, else its topic matched with the scene.
    said = [(c, a.verdict == IN_SCENE) for c, a in controls]
    matched = [(c, bool(matched_thing(topic_of(a.topic, c.text), things) or matched_thing(c.text, things)))
               for c, a in controls]
    jokes = [(c, a.technique != PLAIN) for c, a in controls]
    right = {name: all(c.in_scene == v for c, v in got) for name, got in (("verdict", said), ("topic", matched))}
    right["joke"] = all(c.joke == v for c, v in jokes)
    notes = [f"control {c.text!r}: topic {a.topic!r}, {a.verdict}, {a.technique}" for c, a in controls]
    scene_by = "verdict" if right["verdict"] else "topic" if right["topic"] and things else ""
    checklist: list[dict[str, Any]] = []
    found: list[Finding] = []
    for i, (ln, a) in enumerate(zip(judged, answers), 1):
        at = f" at {ln.start:.1f}s" if ln.start is not None else ""
        thing = matched_thing(topic_of(a.topic, ln.text), things) or matched_thing(ln.text, things)
        yes_scene = a.verdict == IN_SCENE if scene_by == "verdict" else bool(thing)
        checklist.append({"kind": "scene", "question": f"line {i} reacts to what the scene shows or says{at}",
                          "answer": "yes" if yes_scene else "no", "scored": bool(scene_by),
                          "evidence": f"topic {a.topic!r}, model: {a.verdict}" + (f", scene: {thing}" if thing else "")})
        checklist.append({"kind": "joke", "question": f"line {i} uses a joke technique", "scored": right["joke"],
                          "answer": "yes" if a.technique != PLAIN else "no", "evidence": a.technique})
        then = f" ({ln.on_screen[:80]})" if ln.on_screen else ""
        if scene_by and not yes_scene:
            found.append(Finding(code=Code.judge_low, data={"question": "scene", "line": i}, message=(
                f"line {i} {_quote(ln.text)} is about {a.topic[:40]!r}, not what happens on screen{at}{then}: "
                f"write about that moment")))
        if right["joke"] and a.technique == PLAIN:
            found.append(Finding(code=Code.judge_low, data={"question": "joke", "line": i}, message=(
                f"line {i} {_quote(ln.text)} is not a joke (a plain statement): exaggerate, misread or undercut "
                f"what is seen")))
    unscored = ([] if scene_by else ["scene"]) + ([] if right["joke"] else ["joke"])
    how = {"verdict": "the model's verdict", "topic": "the topic the model named, matched with the scene's things "
           "(the model's own verdict got a planted control line wrong)", "": "not scored"}[scene_by]
    counted = [c for c in checklist if c["scored"]]
    shares = {k: round(sum(c["answer"] == "yes" for c in checklist if c["kind"] == k) / len(judged), 4)
              for k in ("scene", "joke")}
    metrics = {"checklist": checklist, "controls": notes, "scene_decided_by": how, "unscored": unscored,
               "lines": len(judged), "scene_share": shares["scene"] if scene_by else None,
               "joke_share": shares["joke"] if right["joke"] else None, "things": things}
    not_scored = [f"{k} question not scored: the model got its planted control lines wrong" for k in unscored]
    if not counted:
        return ScoreReport.skip("script", "the judge could not tell its control lines apart (" + "; ".join(notes) + ")",
                                **metrics)
    yes = sum(c["answer"] == "yes" for c in counted)
    score = yes / len(counted)
    metrics.update(yes=yes, asked=len(counted))
    parts = ([f"{round(shares['scene'] * len(judged))}/{len(judged)} lines about the scene ({how.split(' (')[0]})"]
             if scene_by else []) + ([f"{round(shares['joke'] * len(judged))}/{len(judged)} jokes"] if right["joke"] else [])
    reasons = [f"checklist {yes}/{len(counted)} yes: {', '.join(parts)}"] + not_scored + [f.message for f in found[:6]]
    passed = score >= pass_score
    return ScoreReport(scorer="script", score=round(score, 4), passed=passed, reasons=reasons, metrics=metrics,
                       blame=[] if passed else [Blame.script.value], findings=[] if passed else found)


def _quote(text: str) -> str:
    return f'"{text[:60]}{"…" if len(text) > 60 else ""}"'
