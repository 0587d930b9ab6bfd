"""Scene fit: is the parody made of the scene the user asked for, and only of it?

Two measurements, each a coded finding:
- **footage**: the share of footage seconds (title card aside) whose source frames lie inside the
  matched scene. A 30 s render of a 4 s scene that walks through the next scenes fails → `render`.
- **the scene itself**: the request's scene words against every scene's text (what is seen, what is
  said). When another scene fits the request clearly better than the one used, the scene search
  picked the wrong one → `find`, with the scenes that fit better (the repair tries them in order).
  When the search's own best match was barely ahead of its runner-up, that is reported (ambiguous).
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tools.core.findings import Code
from tools.core.settings.sections import QualitySettings
from tools.quality.burned_subtitles import TimeSpan
from tools.quality.report import Check, ScoreReport, linear

Embed = Callable[[list[str]], np.ndarray]

# Words that ask for a parody but say nothing about which scene (English and Italian).
_GENERIC = set("""a an the this that these those of in on at to for with from by and or but me my our your it its
make made do create give turn redo redub dub spoof parody parodies parodia funny comic comedy comical sketch silly
version video clip film movie scene scenes bit part moment short meme please can you could would i want like some
new voices voice voiceover over words lines seconds second s long minute minutes one two three
fai fammi una un uno la il lo le gli di del della dello dei nel nella scena versione comica divertente parodia
questa questo film""".split())


class SceneInfo(BaseModel):
    """A scene as the scorers need it: where it is and what is known of it (seen and said)."""

    model_config = ConfigDict(extra="ignore")
    index: int
    start: float
    end: float
    description: str = ""
    transcript: str = ""
    shots: list[int] = Field(default_factory=list)  # a scene found over several shots: their indices

    def holds(self, other: "SceneInfo") -> bool:
        return other.index == self.index or other.index in self.shots

    @property
    def text(self) -> str:
        said = f" They say: {self.transcript}" if self.transcript.strip() else ""
        return f"{self.description}{said}".strip()


def request_scene_words(request: str) -> str:
    """The request without the words every parody request shares ("make a funny parody of the …")."""
    words = re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ']+", request or "")
    return " ".join(w for w in words if w.lower().strip("'") not in _GENERIC)


def footage_share(spans: Sequence[TimeSpan], start: float, end: float) -> tuple[float, float, list[list[float]]]:
    """(seconds inside the scene, footage seconds, source ranges outside it)."""
    inside = total = 0.0
    outside: list[list[float]] = []
    for span in spans:
        if span.kind == "title":
            continue
        seconds = max(0.0, span.out_end - span.out_start)
        total += seconds
        lo, hi = min(span.src_start, span.src_end), max(span.src_start, span.src_end)
        if hi - lo < 1e-3:  # a held frame
            share = 1.0 if start - 1e-3 <= lo <= end + 1e-3 else 0.0
        else:
            share = max(0.0, min(hi, end) - max(lo, start)) / (hi - lo)
        inside += seconds * share
        if share < 0.999:
            outside.append([round(lo, 2), round(hi, 2)])
    return inside, total, outside


def score_scene_fit(request: str, used: SceneInfo, scenes: Sequence[SceneInfo], spans: Sequence[TimeSpan],
                    q: QualitySettings, embed: Embed | None = None,
                    match_scores: Sequence[float] = (), extend: bool = False) -> ScoreReport:
    """`match_scores`: the scene search's scores, best first (its confidence is best minus runner-up).
    `extend`: the request asked for more than the scene ("the whole opening"), so footage that runs on from
    the scene into the following ones counts as the scene's; footage from before it still does not."""
    check = Check("scene_fit", q.scorer_pass)
    check.metrics["scene"] = used.index
    if spans:
        inside, total, outside = footage_share(spans, used.start, float("inf") if extend else used.end)
        check.metrics["extended"] = extend
        share = inside / total if total else 1.0
        check.metrics.update(footage_s=round(total, 2), in_scene_s=round(inside, 2), in_scene_share=round(share, 3))
        where = ", ".join(f"{a:.1f}-{b:.1f}s" for a, b in outside[:4])
        check.add(linear(share, q.footage_in_scene_min, q.footage_in_scene_min / 2), 2.0,
                  f"only {share:.0%} of the footage comes from the matched scene ({used.start:.1f}-{used.end:.1f}s "
                  f"of the film); the rest is from {where}", Code.footage_outside_scene, hard=True,
                  fail_below=1.0, scene=used.index, share=round(share, 3), outside=outside[:8])
    words = request_scene_words(request)
    others = [s for s in scenes if not used.holds(s) and s.text]
    if embed is not None and words and others and used.text:
        vectors = embed([words, used.text, *(s.text for s in others)])
        sims = vectors[1:] @ vectors[0]
        own, rest = float(sims[0]), sims[1:]
        order = np.argsort(-rest)
        better = [others[i].index for i in order if rest[i] - own > q.scene_margin]
        gap = float(rest[order[0]]) - own
        check.metrics.update(request_words=words, request_similarity=round(own, 3),
                             best_other=others[order[0]].index, best_other_similarity=round(float(rest[order[0]]), 3))
        check.add(linear(gap, q.scene_margin, 3 * q.scene_margin), 2.0,
                  f"the request ({words!r}) fits scene {better[0] if better else '?'} better than the scene used "
                  f"(#{used.index}, similarity {own:.2f} vs {float(rest[order[0]]):.2f})", Code.scene_mismatch,
                  hard=True, fail_below=1.0, scene=used.index, candidates=better[:3])
    elif not words:
        check.metrics["request_words"] = ""  # "parody this film": any scene fits the request
    if len(match_scores) >= 2 and match_scores[0] >= match_scores[1]:  # else the first was an evaluation's pick
        margin = float(match_scores[0]) - float(match_scores[1])
        check.metrics["search_confidence"] = round(margin, 4)
        check.add(linear(margin, q.scene_confidence_min, 0.0) * 0.4 + 0.6, 0.5,
                  f"the scene search was unsure: its best match was only {margin:.3f} ahead of the runner-up",
                  Code.scene_ambiguous, scene=used.index)
    if not check.parts:
        return ScoreReport.skip("scene_fit", "no timeline and no scene words to compare", **check.metrics)
    return check.report()
