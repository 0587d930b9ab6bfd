"""Tool `write_parody_script`: a parody script written from the scene's facts, within one comedy technique.

The scene's facts (tools/parody/facts.py) give its beat timeline; a technique from the catalogue
(knowledge/comedy/techniques.yaml) is chosen by what the scene offers and what earlier parodies of the film
used (tools/parody/memory.py); the engine (tools/parody/comedy.py) writes a line in every gap, sized to it.
With an LLM the model writes the lines slot by slot within that technique (tools/parody/model_lines.py);
the engine repairs and fills only what it left empty. Paths: "llm" (every line the model's own),
"llm_repaired" (some shortened, split or filled by the engine) or "template" (no usable model line: the
engine's script). Each line carries its own `source`: model, model_repaired or engine.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import Field

from tools.core.context import ToolContext
from tools.core.findings import Code, Finding, findings, messages
from tools.core.registry import tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.parody import comedy, memory, model_lines
from tools.parody.cast import allowed_names, resolve_cast
from tools.parody.facts import SceneFacts, cache_path, scene_facts, with_request_place
from tools.parody.models import TITLE_CARD_S, ParodyScript, SceneRef
from tools.parody.techniques import Technique, asked_for, choose
from tools.parody.template import FALLBACK_LEAD, FALLBACK_SECOND, generic_roles
from tools.parody.timing import candidate_score


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
    facts: list[str] = Field(default_factory=list)  # the scene facts it was written from, one per line
    facts_path: str = ""  # the cached facts record (empty when no film was given)
    line_sources: dict[str, int] = Field(default_factory=dict)  # model / model_repaired / engine → lines
    model_speed: dict[str, float] = Field(default_factory=dict)  # tokens, seconds, tokens_per_s of the first call

    def summary(self) -> str:
        sources = ", ".join(f"{k} {v}" for k, v in self.line_sources.items() if v)
        return (f"script '{self.script.title}' ({self.technique}; {self.source}: {self.why}): {len(self.script.lines)} "
                f"lines ({sources}), {len(self.script.effects)} effects over {self.footage_duration:.1f}s")


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



def _film_path(ctx: ToolContext, film: str) -> Path | None:
    if not film:
        return None
    try:
        path = ctx.workspace.resolve_input(film)
    except (ToolError, ValueError, OSError):
        return None
    return path if path.is_file() else None


def _technique(facts: SceneFacts, request: str, tone: str, history: list[memory.Entry], film: str,
               scene: SceneRef, iteration: int, cast: list[str], voiced: bool = False) -> Technique:
    named = asked_for(request, tone)
    if named is not None and iteration == 0:
        return named
    here = [e.technique for e in history if memory.same_scene(e, film, (scene.start, scene.end))]
    in_film = [e.technique for e in history if e.film == film]
    offers = facts.offers() | ({"character"} if cast else set()) | ({"second"} if len(cast) > 1 else set())
    return choose(offers, here + ([named.id] if named else []), in_film, iteration,
                  key=f"{film}|{scene.start:.2f}", voiced=voiced)


@tool(family="parody")
def write_parody_script(ctx: ToolContext, scene: SceneRef, request: str = "", characters: list[str] | None = None,
                        tone: str = "funny", duration_s: float | None = None, feedback: list[Finding] | None = None,
                        candidates: int = 1, iteration: int = 0, film: str = "",
                        time_budget_s: float = 60.0) -> ScriptResult:
    """Write a timed parody script (title, spoken lines, comic effects) for a scene from what happens in it.

    Args:
        scene: The scene to parody (a find_scene match's `scene`: start, end, description, lines).
        request: The user's request, in their words.
        characters: Character names to voice; empty = taken from the knowledge base for this film.
        tone: The tone, e.g. "funny", "deadpan", or a technique such as "nature documentary".
        duration_s: Length of the finished parody in seconds (a 2 s title card included); empty = the scene's
            own length, kept between 12 and 45 s.
        feedback: Findings of the evaluations so far; the new script fixes the latest and never brings back a name
            or place an evaluation refused.
        candidates: How many model drafts at most (fewer when the model is slow: see time_budget_s).
        iteration: The agent's iteration (a redo takes another comedy technique).
        film: The film's path (its scene facts are measured from it, and cached) or name.
        time_budget_s: Seconds the model may spend drafting; the candidate count follows its measured speed.
    """
    if not 1 <= candidates <= 6:
        raise ToolError(f"candidates={candidates} is out of range", "use 1 to 6")
    footage = footage_seconds(target_duration(scene, duration_s))
    found = findings(feedback or [])
    refused = refused_words(found)
    cast = [c for c in resolve_cast(ctx, list(characters or []), film, scene.description) or
            generic_roles(request, scene.description) if c not in refused["names"]]
    allowed = allowed_names(cast, request, [line.text for line in scene.lines])
    feedback_text = [m[:200] for m in messages(found)]
    with ctx.progress.task("Writing the parody script", total=candidates + 2) as task:
        path = _film_path(ctx, film)
        facts = scene_facts(ctx, path, scene)
        facts = with_request_place(facts, request)
        if set(facts.place.lower().split()) & refused["places"]:
            facts = facts.model_copy(update={"place": "this place", "place_words": {}})
        task.advance()
        film_key = path.name if path else Path(film).name if film else ""
        history = memory.load(ctx.settings)
        named_cast = bool({c.lower() for c in characters or []} & {c.lower() for c in cast})  # the user named who speaks
        technique = _technique(facts, request, tone, history, film_key, scene, iteration, cast, named_cast)
        # Lines other runs' parodies spoke are not said again; this run's own earlier iterations do not count (a
        # redo that keeps a good model line is not a repeat: writer-1.5b's redo on the sample film lost 2 of its
        # lines to its own first draft and fell to the engine).
        this_run = str(ctx.workspace.root)
        used = {comedy.norm(t) for e in history if not e.script.startswith(this_run) for t in e.lines}
        seed = hash_seed(film_key, scene, iteration, len(history))
        lead = cast[0] if cast else FALLBACK_LEAD
        second = cast[1] if len(cast) > 1 else FALLBACK_SECOND
        written = comedy.write(facts, footage, technique, cast, used, seed, lead, second, named_cast)
        engine = scrub(written.script, refused)
        script, source, why, pool, speed = engine, "template", "", [], {}
        notes: list[str] = []
        if ctx.llm is None:
            notes.append("no LLM configured (llm.backend)")
        elif engine.lines:
            slots = model_lines.slots_of(written)
            text = model_lines.prompt(slots, facts, technique, request, cast, feedback_text)
            answers, notes, speed = model_lines.draft(ctx, text, candidates, time_budget_s)
            names = {n.lower(): n for n in allowed} | {"narrator": "Narrator"}
            for answer in answers:
                merged, problems = model_lines.merge(written.script, slots, answer, names, footage, used)
                merged = scrub(merged, refused)
                score, parts = candidate_score(merged, footage, cast)
                mine = sum(l.source != "engine" for l in merged.lines) / max(1, len(merged.lines))
                pool.append((merged, Candidate(source="llm", score=round(0.5 * score + 0.5 * mine, 4), parts=parts,
                                               problems=problems)))
                ctx.trace.event("parody.candidate", score=score, model_share=round(mine, 2), problems=problems[:5])
        task.advance(candidates)
        best = max(pool, key=lambda sc: sc[1].score) if pool else None
        if best is not None and any(l.source != "engine" for l in best[0].lines):
            script = best[0]
            source = "llm" if all(l.source == "model" for l in script.lines) else "llm_repaired"
            why = f"best of {len(pool)} model draft(s) within '{technique.name}', critic {best[1].score:.2f}" + (
                f" ({'; '.join(notes)[:300]})" if notes else "")
        else:
            weak = [f"a draft left every slot to the engine ({'; '.join(c.problems[:2]) or 'no line written'})"
                    for _, c in pool]
            why = f"engine: '{technique.name}' from the scene's facts" + (
                f" ({'; '.join(notes + weak)[:300]})" if notes or weak else "")
            score, parts = candidate_score(engine, footage, cast)
            pool.append((engine, Candidate(source="template", score=score, parts=parts)))
        task.advance()
    if not script.lines:
        raise ToolError(f"no line fits in {footage:.1f}s of footage", "ask for a longer parody (duration_s)")
    out = ctx.workspace.unique_output(f"script_{iteration}", ".json", "parody")
    cast = cast or sorted({line.character for line in script.lines if line.character != "Narrator"})
    sources = {k: sum(l.source == k for l in script.lines) for k in ("model", "model_repaired", "engine")}
    payload = {"script": script.model_dump(), "source": source, "why": why, "technique": technique.name,
               "technique_id": technique.id, "characters": cast, "footage_duration": footage,
               "feedback": feedback_text, "place": facts.place, "scene_lines": [l.text for l in scene.lines],
               "line_sources": sources, "model_speed": speed, "facts": facts.model_dump(mode="json"),
               "gaps": [g.model_dump(mode="json") for g in written.gaps]}
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    memory.record(ctx.settings, memory.Entry(film=film_key, scene=(scene.start, scene.end), technique=technique.id,
                                             lines=[l.text for l in script.lines], script=str(out)))
    ctx.trace.event("parody.script", source=source, why=why[:300], lines=len(script.lines), iteration=iteration,
                    technique=technique.id, line_sources=sources, model_speed=speed)
    return ScriptResult(script=script, text=_script_text(script), source=source, why=why, footage_duration=footage,
                        characters=cast, technique=technique.name, candidates=[c for _, c in pool],
                        facts=facts.summary(), line_sources=sources, model_speed=speed,
                        facts_path=str(cache_path(ctx, path, scene)) if path else "",
                        artifacts=[Artifact(path=ctx.workspace.relative(out), kind="json",
                                            metadata={"what": "parody script", "source": source})])


def hash_seed(film: str, scene: SceneRef, iteration: int, runs: int) -> int:
    return int(hashlib.sha256(f"{film}|{scene.start:.2f}|{scene.end:.2f}|{iteration}|{runs}".encode()).hexdigest()[:8], 16)
