"""Tool `score_parody`: the quality gate on a finished parody, in the shape the agent's evaluate node reads.

It gathers what the content scorers need to know about the film — the scenes (what is seen and
said in each), the cast the knowledge base knows, the scene search's scores — and runs the gate
(tools/quality/evaluate.py). The agent reads {combined, passed, reasons, blame, findings}; each
finding's blame is mapped to steps by the workflow's `on_blame`, its code read by the repair steps.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from tools.core.context import ToolContext
from tools.core.film_titles import same_film, title_words
from tools.core.findings import Finding
from tools.core.registry import InputPath, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.parody.models import TITLE_CARD_S, SceneRef, ScriptEffect, ScriptLine
from tools.quality.av import LineWindow
from tools.quality.burned_subtitles import TimeSpan
from tools.quality.comedy import ComedyInput
from tools.quality.evaluate import SceneContext, evaluate, save_report
from tools.quality.judge import Moment
from tools.quality.scene_fit import SceneInfo

# A parody with a failing scorer is not finished, whatever the weighted mean says: its combined
# score is held just under the threshold so the agent's loop redoes what that scorer blamed.
FAIL_MARGIN = 0.05


class ParodyScore(ToolResult):
    combined: float
    weighted: float  # the plain weighted mean of the scorers that ran
    passed: bool
    threshold: float
    reasons: list[str]
    blame: list[str]
    findings: list[Finding] = Field(default_factory=list)
    reports: list[dict[str, Any]] = Field(default_factory=list)
    report_path: str = ""

    def summary(self) -> str:
        parts = ", ".join(f"{r['scorer']}={'skip' if r.get('skipped') else round(r['score'], 2)}" for r in self.reports)
        blame = f"; change: {', '.join(self.blame)}" if self.blame else ""
        return f"parody quality {self.combined:.2f} {'PASS' if self.passed else 'FAIL'} ({parts}){blame}"


def scene_infos(ctx: ToolContext, film: Path) -> list[SceneInfo]:
    """Every scene of the film with what is seen and, when a transcript exists, what is said."""
    from tools.video.scenes import scene_list

    return [SceneInfo(index=s.index, start=s.start, end=s.end, description=s.description,
                      transcript=_said(s)) for s in scene_list(ctx, film).scenes]


def _said(scene: Any) -> str:
    lines = getattr(scene, "transcript", None) or getattr(scene, "lines", None) or []
    if isinstance(lines, str):
        return lines
    return " ".join(str(getattr(x, "text", x)) for x in lines)


def film_knowledge(ctx: ToolContext, film: Path) -> tuple[list[str], str]:
    """The characters the knowledge base lists for this film (documents whose `film` matches the file's name)
    and what those documents say (so a place or person they mention counts as known)."""
    if ctx.knowledge is None:
        return [], ""
    title = " ".join(sorted(title_words(film.name)))
    if not title:
        return [], ""
    try:
        hits = ctx.knowledge.search(f"{title} characters", k=8, filters={"kind": ["films", "scenes", "characters"]})
    except Exception as exc:  # the knowledge base is optional: names are then checked against the request only
        ctx.trace.event("quality.cast_lookup_failed", error=repr(exc)[:200])
        return [], ""
    names: list[str] = []
    texts: list[str] = []
    for hit in hits:
        meta = getattr(hit, "metadata", {}) or {}
        if same_film(film.name, str(meta.get("film") or meta.get("films") or "")):
            names += [n.strip() for n in str(meta.get("characters") or "").split(",") if n.strip()]
            texts.append(str(getattr(hit, "text", "")))
    return list(dict.fromkeys(names)), " ".join(texts)


def scene_context(ctx: ToolContext, film: Path | None, scene: SceneRef | None, timeline: list[TimeSpan],
                  matches: list[dict[str, Any]], title: str, extend: bool = False) -> SceneContext:
    if film is None or scene is None:
        return SceneContext(film=film, timeline=timeline, title=title, extend=extend)
    try:
        scenes = scene_infos(ctx, film)
    except ToolError as exc:
        ctx.trace.event("quality.scenes_unavailable", error=str(exc)[:200])
        scenes = []
    inside = [s for s in scenes if s.start >= scene.start - 0.05 and s.end <= scene.end + 0.05]
    used = SceneInfo(index=scene.index, start=scene.start, end=scene.end,
                     description=scene.description or " ".join(s.description for s in inside),
                     transcript=" ".join(s.transcript for s in inside), shots=[s.index for s in inside])
    names, known = film_knowledge(ctx, film)
    return SceneContext(film=film, scene=used, scenes=scenes, timeline=timeline, title=title,
                        match_scores=[float(m["score"]) for m in matches if isinstance(m, dict) and "score" in m],
                        known_names=names, known_text=known, extend=extend,
                        film_transcript=" ".join(s.transcript for s in scenes))


def comedy_input(ctx: ToolContext, film: Path | None, scene: SceneRef | None, length: float,
                 effects: list[ScriptEffect], lines: list[str], request: str = "",
                 cast: list[str] | None = None) -> ComedyInput | None:
    """The scene's facts and beats (output seconds) and the film's earlier parodies (other runs), for the comedy
    check. The cast's names count as naming who is on screen when someone is."""
    if scene is None:
        return None
    from tools.parody import memory
    from tools.parody.beats import beat_timeline, play_map, to_footage
    from tools.parody.facts import scene_facts, with_request_place
    from tools.parody.techniques import catalogue

    measured = scene_facts(ctx, film, scene)
    facts = with_request_place(measured, request)  # the place the user named counts, and so does the measured one
    footage = max(1.0, length - TITLE_CARD_S)
    beats, _ = beat_timeline(facts, footage)
    passes = play_map(facts.duration, footage)
    said = [(a + TITLE_CARD_S, b + TITLE_CARD_S) for s in facts.said
            for a, b in zip(to_footage(s.start, passes, footage), to_footage(min(s.end, facts.duration), passes, footage + 60))]
    directions = {e.detail for e in facts.events if e.kind == "motion_peak"}
    phrases = {"place": [p.removeprefix("the ") for p in dict.fromkeys((measured.place, facts.place)) if p != "this place"],
               "character": [c.role for c in facts.characters] + (list(cast or []) if facts.characters else []),
               "look": [c.look for c in facts.characters if c.look],
               "action": [a for d in directions for a in catalogue().actions.get(d, [])],
               "said": [s.text for s in facts.said]}
    mine = {" ".join(t.lower().split()) for t in lines}
    film_name = film.name if film else ""
    this_run = str(ctx.workspace.root)
    previous = [t for e in memory.load(ctx.settings) if e.film == film_name and not e.script.startswith(this_run)
                and {" ".join(x.lower().split()) for x in e.lines} != mine for t in e.lines]
    return ComedyInput(facts=phrases, beats=[(b.t + TITLE_CARD_S, b.kind) for b in beats],
                       gags=[e.at + TITLE_CARD_S for e in effects], said=said, length=length, previous=previous,
                       start=TITLE_CARD_S)


def judge_context(ctx: ToolContext, film: Path | None, scene: SceneRef | None, length: float,
                  request: str = "", cast: list[str] | None = None) -> tuple[list[str], list[Moment]]:
    """What the scene shows and says, and what happens when in the parody (output seconds): the judge asks
    of each line whether it reacts to its moment. The cast's names stand for who is on screen when someone is
    (as in the comedy check)."""
    if scene is None:
        return [], []
    from tools.parody.beats import moments
    from tools.parody.facts import scene_facts, with_request_place

    facts = with_request_place(scene_facts(ctx, film, scene), request)
    footage = max(1.0, length - TITLE_CARD_S)
    named = [f"on screen: {c}" for c in cast or [] if c != "Narrator"] if facts.characters else []
    return facts.plain() + named, [Moment(start=a + TITLE_CARD_S, end=b + TITLE_CARD_S, what=w) for a, b, w in moments(facts, footage)]


def _identity(ctx: ToolContext, images: list[Path], characters: list[str]):
    """Inserts show the lead character: score them against its reference pictures when it has some."""
    if not images or not characters:
        return None
    from tools.image.consistency import identity_fn

    try:
        return identity_fn(ctx.settings, characters[0])
    except (ToolError, OSError, ImportError) as exc:  # no identity backend here: that check says skipped
        ctx.trace.event("quality.identity_unavailable", error=str(exc)[:200])
        return None


@tool(family="parody")
def score_parody(ctx: ToolContext, video: InputPath, lines: list[LineWindow] | None = None,
                 subtitles: InputPath | None = None, script: str = "", request: str = "",
                 target_duration: float | None = None, characters: list[str] | None = None,
                 images: list[str] | None = None, film: InputPath | None = None, scene: SceneRef | None = None,
                 timeline: list[TimeSpan] | None = None, matches: list[dict[str, Any]] | None = None,
                 title: str = "", extend: bool = False, effects: list[ScriptEffect] | None = None,
                 planned: list[ScriptLine] | None = None) -> ParodyScore:
    """Score a finished parody: video (duration, A/V sync, black/frozen picture), audio levels, speech (every
    line heard back and compared with the script), subtitles (rules, and drawn in the picture), scene fit (the
    footage comes from the scene the request names), request fit (the script is about this scene, with this
    film's characters), the LLM judge when a capable model is configured, and inserted images.

    Args:
        video: The parody MP4.
        lines: Where each line is heard: [{text, start, end, speaker}] (assemble_parody's `lines`).
        subtitles: The .srt written with the video.
        script: The script text ("Speaker: line" per line).
        request: The user's request.
        target_duration: The planned length in seconds.
        characters: Character names of the script.
        images: Generated insert images to check (workspace paths).
        film: The film the scene comes from.
        scene: The scene the parody was made of (find_scene's match).
        timeline: assemble_parody's `timeline` (output time → film time of every piece).
        matches: find_scene's `matches` (their scores say how sure the search was).
        title: The parody's title.
        extend: The request asked for more than the scene: footage running on into the next scenes is fine.
        effects: The script's effects (freezes, zooms, sound effects: the gags the comedy check finds on beats).
        planned: The script's lines as timed by the writer: the comedy check measures the script on them (how the
            voices came out is the speech scorer's business); empty = the lines as heard.
    """
    paths = [ctx.workspace.resolve_input(p) for p in images or [] if str(p).lower().endswith((".png", ".jpg", ".jpeg"))]
    context = scene_context(ctx, film, scene, list(timeline or []), list(matches or []), title, extend)
    length = target_duration or (max((ln.end for ln in lines or []), default=0.0) + 1.0)
    context.comedy = comedy_input(ctx, film, scene, length, list(effects or []), [ln.text for ln in lines or []],
                                  request, list(characters or []))
    context.facts, context.moments = judge_context(ctx, film, scene, length, request, list(characters or []))
    if context.comedy is not None and planned:
        context.comedy.planned = [(ln.text, ln.start + TITLE_CARD_S, ln.end + TITLE_CARD_S) for ln in planned]
    report = evaluate(ctx, video, target_duration, list(lines or []), subtitles, script, request, paths,
                      ", ".join(characters or []), identity=_identity(ctx, paths, characters or []), scene=context,
                      burned=True)
    rel = save_report(ctx, report, "parody_quality")
    combined = report.score if report.passed else min(report.score, max(0.0, report.threshold - FAIL_MARGIN))
    return ParodyScore(combined=round(combined, 4), weighted=report.score, passed=report.passed,
                       threshold=report.threshold, reasons=report.reasons, blame=report.blame,
                       findings=report.findings, reports=[r.model_dump(mode="json") for r in report.reports],
                       report_path=rel, artifacts=[Artifact(path=rel, kind="json", metadata={
                           "score": report.score, "passed": report.passed})])
