"""A labelled set of parodies for the quality gate: good ones and broken ones of each kind a user meets,
made with the project's own tools (script writer, voices, assembly, renderer) on a real film.

Each broken kind changes one thing of a good parody and says which scorer must catch it with which blame:

| kind               | what is wrong                                            | caught by        | blame     |
|--------------------|----------------------------------------------------------|------------------|-----------|
| wrong_scene        | footage and script of another scene than the request's   | scene_fit        | find      |
| other_scene_script | the right footage, a script written for another scene    | request_fit      | script    |
| silent_voice       | one line's voice is silence                              | speech           | voices    |
| other_words        | one line's voice says another sentence                   | speech           | voices    |
| no_burned_subs     | the .srt is there, the picture has no subtitles          | burned_subtitles | subtitles |
| made_up_character  | a speaker who is not in the film                         | request_fit      | script    |
| walk_through       | a long render of a short scene that walks into the next | scene_fit        | render    |

Used by tests/parody/test_quality_gate.py and benchmarks/quality_gate.py.
"""
from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.core.context import ToolContext, make_context
from tools.core.registry import invoke
from tools.core.settings import Settings
from tools.core.workspace import Workspace
from tools.parody.models import TITLE_CARD_S

EXPECTED: dict[str, tuple[str, str]] = {
    "wrong_scene": ("scene_fit", "find"),
    "other_scene_script": ("request_fit", "script"),
    "silent_voice": ("speech", "voices"),
    "other_words": ("speech", "voices"),
    "no_burned_subs": ("burned_subtitles", "subtitles"),
    "made_up_character": ("request_fit", "script"),
    "walk_through": ("scene_fit", "render"),
}
BROKEN_KINDS = tuple(EXPECTED)
OTHER_WORDS = "The weather report says rain on Thursday afternoon."


@dataclass
class FilmCase:
    """One film and one request; `scene`/`other` are scene indices (the asked-for one and another)."""

    name: str
    film: Path
    request: str
    scene: int
    other: int
    footage_s: float  # footage of a good parody (within the scene)
    short_scene: int | None = None  # a short scene for walk_through (default: `scene`)
    walk_s: float = 0.0  # footage of walk_through (default: 3x the short scene)
    short_request: str = ""  # the request that names the short scene (default: `request`)


@dataclass
class Labelled:
    film: str
    kind: str  # "good" or a broken kind
    args: dict[str, Any]  # score_parody's arguments
    root: Path
    verdict: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def expected(self) -> tuple[str, str] | None:
        return EXPECTED.get(self.kind)


def knowledge(settings: Settings):
    """The knowledge base with the shipped documents (the gate looks the film's cast up there)."""
    from rag import open_knowledge_base
    from rag.ingest import ingest_default_knowledge

    kb = open_knowledge_base(settings)
    ingest_default_knowledge(kb, settings)
    return kb


def _ctx(settings: Settings, root: Path, film: Path, kb) -> ToolContext:
    ws = Workspace(root)
    ws.allow_file(film)
    return make_context(settings, ws, knowledge=kb)


def _call(name: str, args: dict, ctx: ToolContext) -> dict:
    out = invoke(name, args, ctx)
    if not out.ok:
        raise RuntimeError(f"{name} failed: {out.error}")
    return out.result


def _scene(ctx: ToolContext, film: Path, index: int) -> dict:
    from tools.video.scenes import scene_list

    scene = next(s for s in scene_list(ctx, film).scenes if s.index == index)
    return scene.model_dump(mode="json")


def _silence(path: Path, seconds: float) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=24000:cl=mono",
                    "-t", f"{seconds:.3f}", "-c:a", "pcm_s16le", str(path)], check=True)


class Builder:
    """Makes the outputs of one FilmCase under `root` (one run folder each)."""

    def __init__(self, case: FilmCase, settings: Settings, root: Path, kb) -> None:
        self.case, self.settings, self.root, self.kb = case, settings, root, kb

    def ctx(self, kind: str) -> ToolContext:
        return _ctx(self.settings, self.root / f"{self.case.name}_{kind}", self.case.film, self.kb)

    def matches(self, ctx: ToolContext, first: int, request: str) -> list[dict]:
        found = _call("find_scene", {"film": str(self.case.film), "query": request, "top_k": 3}, ctx)
        matches = found["matches"]
        if matches[0]["scene"]["index"] != first:  # the search picked `first` (wrong_scene's premise)
            chosen = [m for m in matches if m["scene"]["index"] == first] or [
                {"scene": _scene(ctx, self.case.film, first), "score": matches[0]["score"]}]
            matches = chosen + [m for m in matches if m["scene"]["index"] != first]
        return matches

    def parody(self, kind: str, *, scene: int, script_scene: int | None = None, characters: list[str] | None = None,
               footage: float | None = None, request: str | None = None) -> tuple[ToolContext, dict, dict, dict]:
        """script → voices with the project's tools for `scene`; returns (ctx, scene, script, voices)."""
        ctx = self.ctx(kind)
        film = str(self.case.film)
        used = _scene(ctx, self.case.film, scene)
        written_for = _scene(ctx, self.case.film, script_scene if script_scene is not None else scene)
        footage = footage or self.case.footage_s
        script = _call("write_parody_script", {"scene": written_for, "film": film,
                                               "request": self.case.request if request is None else request,
                                               "characters": characters or [], "duration_s": footage + TITLE_CARD_S},
                       ctx)
        voices = _call("voice_script", {"script": script["script"]}, ctx)
        return ctx, used, script, voices

    def render(self, ctx: ToolContext, used: dict, script: dict, voices: list[dict], name: str) -> dict:
        return _call("assemble_parody", {"film": str(self.case.film), "scene": used, "script": script["script"],
                                         "voices": voices, "footage_duration": script["footage_duration"],
                                         "characters": script["characters"], "output_name": name}, ctx)

    def labelled(self, kind: str, ctx: ToolContext, used: dict, script: dict, render: dict,
                 subtitles: str | None = None, request: str = "") -> Labelled:
        request = request or self.case.request
        args = {"video": render["video"], "lines": render["lines"], "subtitles": subtitles or render["subtitles"],
                "script": script["text"], "request": request, "target_duration": render["planned_duration"],
                "characters": script["characters"], "film": str(self.case.film), "scene": used,
                "timeline": render["timeline"], "matches": self.matches(ctx, used["index"], request),
                "title": script["script"]["title"]}
        return Labelled(film=self.case.name, kind=kind, args=args, root=ctx.workspace.root)

    def good(self) -> Labelled:
        ctx, used, script, voices = self.parody("good", scene=self.case.scene)
        return self.labelled("good", ctx, used, script, self.render(ctx, used, script, voices["voices"], "good"))

    def wrong_scene(self) -> Labelled:
        ctx, used, script, voices = self.parody("wrong_scene", scene=self.case.other, request="")
        return self.labelled("wrong_scene", ctx, used, script, self.render(ctx, used, script, voices["voices"], "p"))

    def other_scene_script(self) -> Labelled:
        # Written from the other scene alone (no request): the request's words would pull the script back here.
        ctx, used, script, voices = self.parody("other_scene_script", scene=self.case.scene,
                                                   script_scene=self.case.other, request="")
        return self.labelled("other_scene_script", ctx, used, script,
                             self.render(ctx, used, script, voices["voices"], "p"))

    def made_up_character(self) -> Labelled:
        ctx, used, script, voices = self.parody("made_up_character", scene=self.case.scene,
                                                   characters=["Zorblax Quenterby"])
        return self.labelled("made_up_character", ctx, used, script,
                             self.render(ctx, used, script, voices["voices"], "p"))

    def _one_line_changed(self, kind: str) -> Labelled:
        ctx, used, script, voices = self.parody(kind, scene=self.case.scene)
        clips = [dict(v) for v in voices["voices"]]
        k = len(clips) // 2
        if kind == "silent_voice":
            path = ctx.workspace.resolve_output("audio/silent_line.wav")
            _silence(path, clips[k]["duration"])
            clips[k]["audio"] = ctx.workspace.relative(path)
        else:
            said = _call("synthesize_speech", {"text": OTHER_WORDS, "voice": clips[k]["voice"],
                                               "output_name": "other_words"}, ctx)
            clips[k].update(audio=said["audio"], duration=said["duration"])
        return self.labelled(kind, ctx, used, script, self.render(ctx, used, script, clips, "p"))

    def silent_voice(self) -> Labelled:
        return self._one_line_changed("silent_voice")

    def other_words(self) -> Labelled:
        return self._one_line_changed("other_words")

    def no_burned_subs(self) -> Labelled:
        """The good edit rendered again without burning the subtitles; the .srt of the good one stays."""
        from tools.video.edl import EDL
        from tools.video.render import render

        ctx, used, script, voices = self.parody("no_burned_subs", scene=self.case.scene)
        good = self.render(ctx, used, script, voices["voices"], "with_subs")
        edl_file = next(a["path"] for a in good["artifacts"] if a["path"].endswith("_edl.json"))
        edl = EDL.model_validate(json.loads((ctx.workspace.root / edl_file).read_text()))
        bare = render(ctx, edl.model_copy(update={"subtitles": [], "output": "parody/no_subs.mp4"}))
        return self.labelled("no_burned_subs", ctx, used, script, {**good, "video": bare.path},
                             subtitles=good["subtitles"])

    def walk_through(self) -> Labelled:
        """A short scene's parody whose footage runs on, unbroken, through the scenes after it."""
        from tools.video.edl import EDL, Clip
        from tools.video.render import render

        short = self.case.short_scene if self.case.short_scene is not None else self.case.scene
        ctx = self.ctx("walk_through")
        scene = _scene(ctx, self.case.film, short)
        from tools.media.probe import media_info

        start = scene["start"]
        walk = min(self.case.walk_s or 3 * (scene["end"] - start), media_info(self.case.film).duration - start - 0.2)
        request = self.case.short_request or self.case.request
        _, used, script, voices = self.parody("walk_through", scene=short, footage=walk, request=request)
        made = self.render(ctx, used, script, voices["voices"], "planned")
        edl_file = next(a["path"] for a in made["artifacts"] if a["path"].endswith("_edl.json"))
        edl = EDL.model_validate(json.loads((ctx.workspace.root / edl_file).read_text()))
        straight = Clip(source=str(self.case.film), start=round(start, 3), end=round(start + walk, 3))
        out = render(ctx, edl.model_copy(update={"clips": [edl.clips[0], straight], "output": "parody/walk.mp4"}))
        timeline = [made["timeline"][0], {"kind": "clip", "out_start": TITLE_CARD_S, "out_end": TITLE_CARD_S + walk,
                                          "src_start": start, "src_end": start + walk, "speed": 1.0}]
        return self.labelled("walk_through", ctx, used, script,
                             {**made, "video": out.path, "subtitles": out.subtitles, "timeline": timeline},
                             request=request)


def build(case: FilmCase, settings: Settings, root: Path, kb, kinds: tuple[str, ...] = ("good", *BROKEN_KINDS)
          ) -> list[Labelled]:
    builder = Builder(case, settings, root, kb)
    items = [getattr(builder, kind)() for kind in kinds]
    for item in items:
        (item.root / "labelled.json").write_text(json.dumps({"film": item.film, "kind": item.kind, "args": item.args}))
    return items


def load(root: Path) -> list[Labelled]:
    """Outputs built earlier under `root` (each run folder keeps its labelled.json)."""
    out = []
    for path in sorted(root.glob("*/labelled.json")):
        data = json.loads(path.read_text())
        out.append(Labelled(film=data["film"], kind=data["kind"], args=data["args"], root=path.parent))
    return out


def score(item: Labelled, settings: Settings, kb) -> Labelled:
    """Run the gate (score_parody) on one labelled output; keeps its verdict and the seconds it took."""
    ctx = _ctx(settings, item.root, Path(item.args["film"]), kb)
    started = time.perf_counter()
    item.verdict = _call("score_parody", item.args, ctx)
    item.seconds = round(time.perf_counter() - started, 3)
    return item


def caught(item: Labelled) -> bool:
    """A broken output is caught when the gate fails it and the expected scorer fails with the expected blame."""
    if item.expected is None:
        return False
    scorer, blame = item.expected
    report = next((r for r in item.verdict.get("reports", []) if r["scorer"] == scorer), None)
    return (not item.verdict.get("passed", True) and report is not None and not report["passed"]
            and blame in report["blame"] and blame in item.verdict.get("blame", []))
