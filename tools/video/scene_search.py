"""Scene search by what is seen, what is said, what the user knows and where it is in the film.

Each shot gets four scores in the same cosine units (all-MiniLM-L6-v2):
- sight: the query against the shot's description (measured descriptors, a VLM caption when set);
- speech: the query, or the line the user quoted, against each line said in the shot (best of the
  embedding similarity and a word overlap that survives small recognition errors);
- guide: the knowledge base's scene guide for this film, when it has one (the guide passage that
  matches the query, against the shot's description);
- position: the opening, the ending, or a time the user named.
The best shot is widened into a scene (the shots its line spans, neighbours that look the same),
and the confidence says how clearly it beats the best scene outside it.
"""
from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path

import numpy as np

from tools.core.context import ToolContext
from tools.core.embeddings import get_embedder
from tools.core.words import FUNCTION_WORDS
from tools.video import cache
from tools.video.models import Scene, SceneList, SceneMatch, SceneSearchResult

TEMPERATURE = 0.04  # softmax temperature of the confidence, in cosine units
POSITION_WEIGHT = 0.5
SAME_LOOK = 0.95  # neighbouring shots this similar in description belong to the same scene
MAX_SCENE_S = 45.0
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_FILLER = FUNCTION_WORDS | {"says", "said", "say", "scene", "someone", "m", "s", "ve", "re", "ll", "d", "t"}


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _FILLER]


def word_overlap(said: str, line: str) -> float:
    """Share of the quoted words heard in the line (prefix match of 4+ letters absorbs 'someone'/'some one')."""
    want = _words(said)
    have = _words(line)
    if not want or not have:
        return 0.0

    def heard(word: str) -> bool:
        return any(h == word or (len(word) >= 4 and len(h) >= 4 and (h.startswith(word[:4]) or word.startswith(h[:4])))
                   for h in have)

    return sum(heard(w) for w in want) / len(want)


def cached_vectors(ctx: ToolContext, fingerprint: str, label: str, texts: list[str]) -> np.ndarray:
    """Embeddings of `texts`, cached beside the film's analysis, keyed by the model and the texts."""
    embedder = get_embedder(ctx.settings)
    if not texts:
        return np.zeros((0, embedder.dimension), np.float32)
    key = hashlib.sha256("\n".join([str(embedder.path), *texts]).encode()).hexdigest()[:16]
    stored = cache.cache_root(ctx.settings) / fingerprint / f"{label}-{key}.npy"
    try:
        return np.load(stored)
    except (OSError, ValueError):
        vectors = embedder.encode(texts)
        if stored.parent.is_dir():
            tmp = stored.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(stored)
        return vectors


def speech_scores(ctx: ToolContext, scenes: SceneList, query_vec: np.ndarray, said: str
                  ) -> tuple[np.ndarray, list[str | None]]:
    """Per shot: the best line similarity, and that line."""
    texts = list(dict.fromkeys(line.text for s in scenes.scenes for line in s.lines))
    scores = np.zeros(len(scenes.scenes), np.float32)
    best: list[str | None] = [None] * len(scenes.scenes)
    if not texts:
        return scores, best
    vectors = cached_vectors(ctx, scenes.fingerprint, "lines", texts)
    sims = vectors @ query_vec
    said_sims = vectors @ get_embedder(ctx.settings).encode([said])[0] if said else None
    by_text = {}
    for i, text in enumerate(texts):
        value = float(sims[i])
        if said:
            value = max(value, float(said_sims[i]), 0.9 * word_overlap(said, text))
        by_text[text] = value
    for i, scene in enumerate(scenes.scenes):
        for line in scene.lines:
            if by_text[line.text] > scores[i]:
                scores[i], best[i] = by_text[line.text], line.text
    return scores, best


def _film_words(film: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", Path(film).stem.lower()) if len(w) > 2 and w not in ("the", "trailer")}


def guide_scores(ctx: ToolContext, scenes: SceneList, query: str, desc_vecs: np.ndarray) -> tuple[np.ndarray, str]:
    """Through the knowledge base's scene guide of this film: its best passage for the query vs each shot."""
    zero = np.zeros(len(scenes.scenes), np.float32)
    if ctx.knowledge is None:
        return zero, ""
    try:
        hits = ctx.knowledge.search(query, k=4, filters={"kind": "scenes"})
    except Exception:  # the guide is a bonus: no knowledge base, a locked store...
        return zero, ""
    wanted = _film_words(scenes.film)
    for hit in hits:
        meta = getattr(hit, "metadata", {}) or {}
        if meta.get("origin") == "pushed":  # our own scene descriptions, not the user's guide
            continue
        film_words = {w for w in re.split(r"[^a-z0-9]+", str(meta.get("film", "")).lower()) if len(w) > 2}
        if not wanted or not film_words or not (wanted & film_words):
            continue
        text = str(getattr(hit, "text", ""))
        vec = get_embedder(ctx.settings).encode([text])[0]
        return desc_vecs @ vec, str(getattr(hit, "title", "")) or text[:60]
    return zero, ""


def position_scores(scenes: list[Scene], position: str, at_s: float | None) -> np.ndarray:
    """1 for the shot the position names, fading over the next few; 0 when none is named."""
    n = len(scenes)
    out = np.zeros(n, np.float32)
    if at_s is not None:
        for i, s in enumerate(scenes):
            out[i] = 1.0 if s.start <= at_s < s.end else max(0.0, 1.0 - min(abs(at_s - s.start), abs(at_s - s.end)) / 5)
        return out
    if position not in ("opening", "ending"):
        return out
    content = [i for i, s in enumerate(scenes) if s.descriptors.dark_ratio < 0.85 and s.duration >= 0.5] or list(range(n))
    order = content if position == "opening" else content[::-1]
    for rank, i in enumerate(order):
        out[i] = max(0.0, 1.0 - 0.25 * rank)
    return out


def widen(scenes: list[Scene], best: int, line: str | None, desc_vecs: np.ndarray) -> Scene:
    """The found shot grown into its scene: the shots its matched line spans, and neighbours that look the same."""
    chosen = {best}
    if line:
        span = [ln for ln in scenes[best].lines if ln.text == line]
        if span:
            lo, hi = span[0].start, span[0].end
            chosen |= {i for i, s in enumerate(scenes) if min(hi, s.end) - max(lo, s.start) > 0.1}
    for step in (-1, 1):
        i = (min(chosen) if step < 0 else max(chosen)) + step
        while 0 <= i < len(scenes) and float(desc_vecs[i] @ desc_vecs[best]) >= SAME_LOOK:
            if max(scenes[j].end for j in chosen | {i}) - min(scenes[j].start for j in chosen | {i}) > MAX_SCENE_S:
                break
            chosen.add(i)
            i += step
    ids = sorted(chosen)
    if len(ids) == 1:
        return scenes[best].model_copy(update={"shots": ids})
    lines = {(ln.start, ln.text): ln for j in ids for ln in scenes[j].lines}
    first, last = scenes[ids[0]], scenes[ids[-1]]
    return scenes[best].model_copy(update={
        "start": first.start, "end": last.end, "start_frame": first.start_frame, "end_frame": last.end_frame,
        "start_timecode": first.start_timecode, "end_timecode": last.end_timecode, "shots": ids,
        "lines": [lines[k] for k in sorted(lines)]})


def search_scenes(ctx: ToolContext, scenes: SceneList, desc_vecs: np.ndarray, query: str, *, said: str = "",
                  position: str = "", at_s: float | None = None, top_k: int = 3) -> SceneSearchResult:
    shots = scenes.scenes
    query_vec = get_embedder(ctx.settings).encode([query])[0]
    sight = desc_vecs @ query_vec
    speech, lines = speech_scores(ctx, scenes, query_vec, said)
    guide, guide_title = guide_scores(ctx, scenes, query, desc_vecs)
    where = position_scores(shots, position, at_s)
    fused = np.maximum(np.maximum(sight, speech), guide) + POSITION_WEIGHT * where
    order = [int(i) for i in np.argsort(-fused, kind="stable")]

    def match(i: int, scene: Scene) -> SceneMatch:
        parts = {"sight": float(sight[i]), "speech": float(speech[i]), "guide": float(guide[i])}
        lead = max(parts, key=parts.get)
        why = {"sight": "what is seen", "speech": f"what is said: {lines[i]!r}" if lines[i] else "what is said",
               "guide": f"the scene guide ({guide_title})"}[lead]
        if where[i] > 0:
            why += f" + {'the time named' if at_s is not None else 'the ' + position}"
        return SceneMatch(scene=scene, score=round(float(fused[i]), 4), sight=round(parts["sight"], 4),
                          speech=round(parts["speech"], 4), guide=round(parts["guide"], 4),
                          position=round(float(where[i]), 4), line=lines[i] if lead == "speech" else None, why=why)

    units: list[SceneMatch] = []
    covered: set[int] = set()
    for i in order:
        if i in covered:
            continue
        scene = widen(shots, i, lines[i] if speech[i] >= sight[i] else None, desc_vecs)
        covered |= set(scene.shots)
        units.append(match(i, scene))
        if len(units) >= max(top_k, 3):
            break
    best = units[0]
    rivals = [u.score for u in units[1:]] + [float(fused[i]) for i in order if i not in covered][:20]
    confidence = 1.0 / (1.0 + sum(math.exp((r - best.score) / TEMPERATURE) for r in rivals))
    runner_up = units[1] if len(units) > 1 else None
    ambiguous = confidence < ctx.settings.video.scene_confidence_min
    return SceneSearchResult(
        film=scenes.film, query=query, said=said, matches=units[:top_k], confidence=round(confidence, 4),
        margin=round(best.score - runner_up.score, 4) if runner_up else 1.0, runner_up=runner_up,
        ambiguous=ambiguous, candidates=units[:3] if ambiguous else [], transcript=scenes.transcript)
