"""Tool `write_parody_script`: the LLM drafts, deterministic rules repair and time, a critic picks the best.

Paths (reported in the result): "llm" (the model's script needed no repair), "llm_repaired" (lines
dropped/cleaned, always re-timed) or "template" (no model, the model failed, or every candidate was
too weak: a technique from knowledge/comedy filled with the run's characters and scene).
"""
from __future__ import annotations

import json
import re
import time
from typing import Any, Literal

from pydantic import Field

from tools.core.context import ToolContext
from tools.core.findings import Code, Finding, findings, messages
from tools.core.prompts import PromptBook
from tools.core.registry import tool
from tools.core.structured_output import invoke_structured
from tools.core.types import Artifact, ToolError, ToolResult
from tools.parody.cast import allowed_names, ground_speakers, resolve_cast
from tools.parody.models import TITLE_CARD_S, ParodyScript, SceneRef, ScriptDraft
from tools.parody.template import generic_roles, place_of, technique_of, template_script
from tools.parody.timing import candidate_score, fit_effects, fit_lines, repair

MIN_USABLE_LINES = 3
MIN_CANDIDATE_SCORE = 0.55
TECHNIQUES = ["deadpan narration", "mismatched voice-over (sports commentary)", "movie-trailer voice with bathos",
              "nature-documentary narration", "inner monologue with a freeze-frame caption"]

PROMPTS = PromptBook.beside(__file__)


class Candidate(ToolResult):
    source: Literal["llm", "template"]
    score: float
    parts: dict[str, float] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)


class ScriptResult(ToolResult):
    script: ParodyScript
    text: str  # "Speaker: line" per line, for judges and reports
    source: Literal["llm", "llm_repaired", "template"]  # where the kept script came from
    why: str
    footage_duration: float  # seconds of scene footage the lines are timed on (after the title card)
    characters: list[str]
    technique: str = ""
    candidates: list[Candidate] = Field(default_factory=list)

    def summary(self) -> str:
        return (f"script '{self.script.title}' ({self.source}: {self.why}): {len(self.script.lines)} lines, "
                f"{len(self.script.effects)} effects over {self.footage_duration:.1f}s")


# A parody that follows its scene's length stays within this (seconds): 12 s leave a short scene room for
# three lines (a setup, the line said in it, a punchline); past 45 s a parody drags.
SCENE_LENGTH_RANGE = (12.0, 45.0)


def target_duration(scene: SceneRef, duration_s: float | None) -> float:
    """The length the request named, else the scene's own (title card included), clamped to 12–45 s."""
    if duration_s is not None:
        return duration_s
    lo, hi = SCENE_LENGTH_RANGE
    return round(min(hi, max(lo, scene.duration + TITLE_CARD_S)), 2)


def footage_seconds(duration_s: float) -> float:
    if not 6.0 <= duration_s <= 300.0:
        raise ToolError(f"duration_s={duration_s} is out of range", "ask for a parody of 6 to 300 seconds")
    return round(duration_s - TITLE_CARD_S, 2)


def _prompt(scene: SceneRef, request: str, cast: list[str], tone: str, footage: float, feedback: list[str],
            techniques: list[str], alternative: int) -> str:
    said = " / ".join(f'"{line.text}"' for line in scene.lines[:6])
    redo = PROMPTS("script_feedback", problems="\n- ".join(feedback[:6])) if feedback else ""
    return PROMPTS("script_request", request=request or "a funny parody of this scene", footage=footage,
                   scene=scene.description or "a scene from the film",
                   said=f"What is said in it (the original dialogue): {said}" if said else "Nobody speaks in it.",
                   cast=", ".join(cast) or "unknown",
                   tone=tone or "funny", technique=techniques[alternative % len(techniques)],
                   lines=max(3, min(6, int(footage // 5))), feedback=redo)


def _techniques(ctx: ToolContext) -> list[str]:
    """Comedy technique names from the knowledge base (kind: comedy), else the built-in list."""
    if ctx.knowledge is None:
        return TECHNIQUES
    try:
        hits = ctx.knowledge.search("parody comedy technique narration editing gag", k=6, filters={"kind": "comedy"})
    except Exception:
        return TECHNIQUES
    names = [str(getattr(h, "title", "")).strip() for h in hits]
    names = [n for n in dict.fromkeys(names) if n]
    return names + [t for t in TECHNIQUES if t not in names] if names else TECHNIQUES


def _script_text(script: ParodyScript) -> str:
    return "\n".join(f"{l.character}: {l.text}" for l in script.lines)


def refused_words(found: list[Finding]) -> dict[str, set[str]]:
    """Names and place words an evaluation refused (in any iteration): a rewrite never brings them back."""
    return {"names": {str(f.data.get("name")) for f in found if f.code == Code.unknown_character and f.data.get("name")},
            "places": {str(w).lower() for f in found if f.code == Code.foreign_place for w in f.data.get("words") or []}}


def scrub(script: ParodyScript, refused: dict[str, set[str]]) -> ParodyScript:
    """A refused speaker becomes the Narrator; a line naming a refused place is dropped."""
    if not refused["names"] and not refused["places"]:
        return script
    lines = []
    for line in script.lines:
        if set(re.findall(r"[a-zà-ÿ]+", line.text.lower())) & refused["places"]:
            continue
        who = "Narrator" if line.character in refused["names"] else line.character
        lines.append(line.model_copy(update={"character": who}))
    return script.model_copy(update={"lines": lines})


def _llm_candidates(ctx: ToolContext, prompt_args: dict[str, Any], cast: list[str], allowed: set[str], footage: float,
                    count: int, budget_s: float, offset: int,
                    refused: dict[str, set[str]]) -> tuple[list[tuple[ParodyScript, Candidate]], list[str]]:
    from langchain_core.messages import HumanMessage, SystemMessage

    llm = ctx.llm
    out: list[tuple[ParodyScript, Candidate]] = []
    notes: list[str] = []
    started = time.perf_counter()
    last = 0.0
    for k in range(count):
        elapsed = time.perf_counter() - started
        if k and elapsed + last > budget_s:
            notes.append(f"stopped after {k} candidate(s): the next would pass the {budget_s:.0f}s budget")
            break
        t0 = time.perf_counter()
        msg = _prompt(alternative=k + offset, **prompt_args)
        try:
            draft = invoke_structured(llm, [SystemMessage(content=PROMPTS("script_system")), HumanMessage(content=msg)], ScriptDraft,
                                      retries=ctx.settings.llm.structured_retries, trace=ctx.trace,
                                      purpose=f"parody_script:{k}")
        except Exception as exc:  # a weak or unreachable model must not stop the parody: the template takes over
            notes.append(f"candidate {k + 1}: the model failed ({type(exc).__name__}: {str(exc)[:120]})")
            last = time.perf_counter() - t0
            continue
        last = time.perf_counter() - t0
        fixed, problems = repair(scrub(ground_speakers(draft.to_script(), allowed, cast), refused), footage, cast)
        score, parts = candidate_score(fixed, footage, cast)
        out.append((fixed, Candidate(source="llm", score=score, parts=parts, problems=problems)))
        ctx.trace.event("parody.candidate", index=k, score=score, lines=len(fixed.lines), problems=problems[:5],
                        seconds=round(last, 2))
    return out, notes


@tool(family="parody")
def write_parody_script(ctx: ToolContext, scene: SceneRef, request: str = "", characters: list[str] | None = None,
                        tone: str = "funny", duration_s: float | None = None, feedback: list[Finding] | None = None,
                        candidates: int = 1, iteration: int = 0, film: str = "",
                        time_budget_s: float = 60.0) -> ScriptResult:
    """Write a timed parody script (title, spoken lines, comic effects) for a scene, fitted to its length.

    Args:
        scene: The scene to parody (a find_scene match's `scene`: start, end, description).
        request: The user's request, in their words.
        characters: Character names to voice; empty = taken from the knowledge base for this film.
        tone: The tone, e.g. "funny", "deadpan", "over-dramatic".
        duration_s: Length of the finished parody in seconds (a 2 s title card included); empty = the scene's
            own length, kept between 12 and 45 s.
        feedback: Findings of the evaluations so far; the new script fixes the latest and never brings back a name
            or place an evaluation refused.
        candidates: How many scripts to draft; the best by a deterministic critic is kept.
        iteration: The agent's iteration (a redo picks another comedy technique).
        film: The film's path or name (to find its characters in the knowledge base).
        time_budget_s: Stop drafting further candidates when the next would pass this many seconds.
    """
    if not 1 <= candidates <= 6:
        raise ToolError(f"candidates={candidates} is out of range", "use 1 to 6")
    footage = footage_seconds(target_duration(scene, duration_s))
    said = [line.text for line in scene.lines]
    found = findings(feedback or [])
    refused = refused_words(found)
    cast = [c for c in resolve_cast(ctx, list(characters or []), film, scene.description) or
            generic_roles(request, scene.description) if c not in refused["names"]]
    allowed = allowed_names(cast, request, said)
    feedback = [m[:200] for m in messages(found)]
    if refused["names"] or refused["places"]:
        feedback.append("Do not use " + "; ".join(f"{k}: {', '.join(sorted(v))}" for k, v in refused.items() if v))
    with ctx.progress.task("Writing the parody script", total=candidates + 1) as task:
        pool: list[tuple[ParodyScript, Candidate]] = []
        notes: list[str] = []
        if ctx.llm is None:
            notes.append("no LLM configured (llm.backend)")
        else:
            args = {"scene": scene, "request": request, "cast": cast, "tone": tone, "footage": footage,
                    "feedback": feedback, "techniques": _techniques(ctx)}
            pool, notes = _llm_candidates(ctx, args, cast, allowed, footage, candidates, time_budget_s, iteration,
                                          refused)
        task.update(completed=candidates)
        usable = [(s, c) for s, c in pool if len(s.lines) >= MIN_USABLE_LINES and c.score >= MIN_CANDIDATE_SCORE]
        if usable:
            script, best = max(usable, key=lambda sc: sc[1].score)
            source = "llm" if not best.problems else "llm_repaired"
            why = f"best of {len(pool)} model candidate(s), critic score {best.score:.2f}"
            technique = TECHNIQUES[(iteration + pool.index((script, best))) % len(TECHNIQUES)]
            if not script.title:
                script = script.model_copy(update={"title": f"{cast[0] if cast else 'A'} Parody"})
        else:
            weak = [f"candidate scored {c.score:.2f} with {len(s.lines)} usable lines ({'; '.join(c.problems[:2])})"
                    for s, c in pool]
            why = "template fallback: " + ("; ".join(notes + weak) or "no usable candidate")[:400]
            draft = scrub(template_script(cast, scene.description, footage, iteration, lines=said, scene_words=request),
                          refused)
            script = ParodyScript(title=draft.title, lines=fit_lines(draft.lines, footage),
                                  effects=fit_effects(draft.effects, footage, "Nailed it."))
            score, parts = candidate_score(script, footage, cast)
            best = Candidate(source="template", score=score, parts=parts)
            pool.append((script, best))
            source, technique = "template", technique_of(iteration)
        task.advance()
    if not script.lines:
        raise ToolError(f"no line fits in {footage:.1f}s of footage", "ask for a longer parody (duration_s)")
    out = ctx.workspace.unique_output(f"script_{iteration}", ".json", "parody")
    cast = cast or sorted({line.character for line in script.lines if line.character != "Narrator"})
    payload = {"script": script.model_dump(), "source": source, "why": why, "technique": technique,
               "characters": cast, "footage_duration": footage, "feedback": feedback,
               "place": place_of(request, scene.description)["place"], "scene_lines": said}
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    ctx.trace.event("parody.script", source=source, why=why[:300], lines=len(script.lines), iteration=iteration)
    return ScriptResult(script=script, text=_script_text(script), source=source, why=why, footage_duration=footage,
                        characters=cast, technique=technique, candidates=[c for _, c in pool],
                        artifacts=[Artifact(path=ctx.workspace.relative(out), kind="json",
                                            metadata={"what": "parody script", "source": source})])
