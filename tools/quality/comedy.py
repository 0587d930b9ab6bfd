"""The comedy check: deterministic measures of whether a parody has something to laugh at, and where.

- on-screen facts: the share of lines that name a fact of the scene (an action it shows, a line said in it,
  a character's look or role, the place) — at least half;
- speech: the share of the parody's length that is voiced — at least SPEECH_SHARE;
- beats: every gap longer than LONG_GAP_S that holds a beat (a motion peak, a cut, a loud hit, a face
  to the camera, a held still) carries a line or a gag;
- repetition: no line spoken in the film's earlier parodies comes back;
- echoes: every line adds a content word the parody's earlier lines did not say (a line that only
  rewords what was said, "The dragon country." after "Level one: dragon country.", is dead air with words).
Funniness itself is not measured here: with a capable judge model the gate adds its verdict
(tools/quality/evaluate.py); without one the report says that funniness was not judged.
"""
from __future__ import annotations

import re

from pydantic import BaseModel, Field

from tools.core.findings import Code, Finding
from tools.core.words import FUNCTION_WORDS
from tools.quality.report import ScoreReport

SPEECH_SHARE = 0.35
FACT_SHARE = 0.5
LONG_GAP_S = 2.5


class ComedyInput(BaseModel):
    """What the check knows of the scene and the film's earlier parodies (output seconds)."""

    facts: dict[str, list[str]] = Field(default_factory=dict)  # kind → phrases: action, said, look, character, place
    beats: list[tuple[float, str]] = Field(default_factory=list)  # (time, kind)
    gags: list[float] = Field(default_factory=list)  # times of freezes, zooms, sound effects
    said: list[tuple[float, float]] = Field(default_factory=list)  # the film's own lines, heard under the parody
    length: float = 0.0  # the parody's length
    start: float = 0.0  # where the footage starts (after a title card): dead air is counted from there
    previous: list[str] = Field(default_factory=list)  # lines of the film's earlier parodies
    planned: list[tuple[str, float, float]] = Field(default_factory=list)  # the script's own timing (else as heard)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def echoes(lines: list[str]) -> list[str]:
    """Lines whose content words were all said by earlier lines of the same parody."""
    said: set[str] = set()
    out = []
    for text in lines:
        words = {w for w in _norm(text).split() if w not in FUNCTION_WORDS}
        if said and words and words <= said:
            out.append(text)
        said |= words
    return out


def refers(text: str, facts: dict[str, list[str]]) -> list[str]:
    """The kinds of fact a line names: a phrase of the fact (a said line: three of its words in a row)."""
    low = f" {_norm(text)} "
    out = []
    for kind, phrases in facts.items():
        for phrase in phrases:
            words = _norm(phrase).split()
            if kind == "said":
                grams = [" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2))]
                hit = any(f" {g} " in low for g in grams if len(g) > 6)
            else:
                hit = bool(words) and f" {' '.join(words)} " in low
            if hit:
                out.append(kind)
                break
    return out


def score_comedy(lines: list[tuple[str, float, float]], data: ComedyInput) -> ScoreReport:
    """`lines`: (text, start, end) in output seconds."""
    if not lines:
        return ScoreReport(scorer="comedy", score=0.0, passed=False, reasons=["no voiced lines"], blame=["script"],
                           findings=[Finding(code=Code.comedy_thin_speech, message="the parody has no voiced line")])
    found: list[Finding] = []
    named = [refers(t, data.facts) for t, _, _ in lines]
    fact_share = sum(bool(n) for n in named) / len(lines)
    if fact_share < FACT_SHARE:
        off = [t for (t, _, _), n in zip(lines, named) if not n]
        found.append(Finding(code=Code.comedy_off_screen, data={"lines": off[:6], "share": round(fact_share, 2)},
                             message=f"only {fact_share:.0%} of the lines name something of the scene (an action, a "
                                     f"line said, a character's look, the place); write about what happens on screen"))
    speech = sum(max(0.0, b - a) for _, a, b in lines)
    share = speech / data.length if data.length > 0 else 0.0
    if share < SPEECH_SHARE:
        found.append(Finding(code=Code.comedy_thin_speech, data={"share": round(share, 3)},
                             message=f"speech covers {share:.0%} of the parody (at least {SPEECH_SHARE:.0%} wanted)"))
    busy = sorted([(a, b) for _, a, b in lines] + [(t - 0.2, t + 0.2) for t in data.gags] + list(data.said))
    missed, long_gaps = [], 0
    t = data.start
    for a, b in busy + [(data.length, data.length)]:
        if a - t > LONG_GAP_S:
            inside = [(bt, k) for bt, k in data.beats if t < bt < a]
            if inside:
                long_gaps += 1
                missed.append((round(t, 2), round(a, 2), inside[0][1]))
        t = max(t, b)
    if missed:
        found.append(Finding(code=Code.comedy_beat_missed, data={"gaps": missed[:6]},
                             message=f"{len(missed)} gap(s) over {LONG_GAP_S}s with a beat carry no line or gag "
                                     f"(first at {missed[0][0]:.1f}s: a {missed[0][2].replace('_', ' ')})"))
    before = {_norm(p) for p in data.previous}
    repeated = [t for t, _, _ in lines if _norm(t) in before]
    if repeated:
        found.append(Finding(code=Code.comedy_repeated, data={"lines": repeated[:6]},
                             message=f"{len(repeated)} line(s) repeat the film's earlier parodies: {repeated[0]!r}"))
    echoed = echoes([t for t, _, _ in sorted(lines, key=lambda x: x[1])])
    if echoed:
        found.append(Finding(code=Code.comedy_echo, data={"lines": echoed[:6]},
                             message=f"{len(echoed)} line(s) only repeat what an earlier line said: {echoed[0]!r}"))
    parts = {"facts": min(1.0, fact_share / FACT_SHARE), "speech": min(1.0, share / SPEECH_SHARE),
             "beats": 1.0 - min(1.0, len(missed) / max(1, long_gaps + 1)),
             "fresh": 1.0 - (len(repeated) + len(echoed)) / len(lines)}
    score = sum(parts.values()) / len(parts)
    metrics = {"lines": len(lines), "fact_share": round(fact_share, 3), "speech_share": round(share, 3),
               "beat_gaps_missed": len(missed), "repeated": len(repeated), "echoes": len(echoed),
               "refers": {t: n for (t, _, _), n in zip(lines, named)}, "parts": {k: round(v, 3) for k, v in parts.items()}}
    reasons = [f.message for f in found] or ["all checks passed"]
    return ScoreReport(scorer="comedy", score=round(score, 4), passed=not found, reasons=reasons, metrics=metrics,
                       blame=["script"] if found else [], findings=found)
