"""Routing by job: the request's verb and object, facts about the request and the run, and the
workflow and tool descriptions.

Each workflow's YAML says how its job is recognised (`route:` — verbs, objects, phrases, signal
weights, English and Italian). A request scores against every job; the best one wins when it has
real evidence (a verb, an object or a phrase), otherwise a question is answered from knowledge.
Similarity of the request to the workflow's description and its tools' descriptions (MiniLM) is a
tie-breaker; for a user workflow that declares no cues, similarity to its description or one of its
examples is the only evidence there is. Deterministic, so the
embedded model routes right; a capable model may choose differently (agent/planning/routing/model.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from tools.core.embeddings import Embedder
from tools.core.registry import ToolSpec, get_tool
from workflows import Workflow

VERB_WEIGHT, OBJECT_WEIGHT, EXTRA_OBJECT_WEIGHT, PHRASE_WEIGHT, CONTEXT_WEIGHT = 1.0, 2.0, 0.5, 1.5, 0.5
SIMILARITY_WEIGHT = 1.5  # × cosine similarity to the description (0.1–0.6 in practice)
FILM_FIT = 0.5  # a job that needs a film: + when one is given, − when not
MIN_EVIDENCE = 1.0  # below this cue score (similarity excluded) nothing matched: fall back
CUELESS_EVIDENCE = VERB_WEIGHT + OBJECT_WEIGHT  # a workflow without cues, similar enough: "a verb and an object"
FALLBACK = "answer_knowledge"  # the job for requests no workflow claims

_VECTORS: dict[tuple, np.ndarray] = {}


def _encode_cached(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Workflow/tool descriptions rarely change: encode them once per process."""
    key = (str(embedder.path), tuple(texts))
    if key not in _VECTORS:
        _VECTORS[key] = embedder.encode(texts)
    return _VECTORS[key]


def _cue_regex(word: str) -> str:
    """A cue is a word start ("illustrat" matches illustration); a trailing "$" asks for the whole word
    ("cut$" is neither "cute" nor "cut-out"); a space inside a cue allows spaces or hyphens ("voice over")."""
    whole = word.endswith("$")
    body = re.escape(word.rstrip("$").lower()).replace(r"\ ", r"[\s-]+")
    return body + (r"(?![\w'-])" if whole else "")


@lru_cache(maxsize=512)
def _stems(words: tuple[str, ...]) -> re.Pattern | None:
    if not words:
        return None
    alternatives = sorted({_cue_regex(w) for w in words}, key=len, reverse=True)
    return re.compile(r"(?<![\w])(" + "|".join(alternatives) + r")", re.I)


@dataclass
class JobScore:
    workflow: str
    score: float
    evidence: float  # the part that came from cues and signals (not from similarity)
    matched: list[str] = field(default_factory=list)


@dataclass
class Route:
    workflow: str | None
    score: float
    ranking: list[tuple[str, float]]  # (workflow, confidence 0–1), best first
    matched: list[str] = field(default_factory=list)  # why the winner won
    method: str = "rules"  # rules | model | fallback
    signals: dict[str, bool] = field(default_factory=dict)
    candidates: list[str] = field(default_factory=list)  # jobs with real evidence, best first (ToT's candidates)

    @property
    def confidence(self) -> float:
        return self.ranking[0][1] if self.ranking else 0.0


def confidence(score: float) -> float:
    """Cue points → 0–1 (a verb and an object ≈ 0.75) for ToT's plan critic and the trace."""
    return round(max(0.0, score) / (max(0.0, score) + 1.0), 4)


def has_cues(wf: Workflow) -> bool:
    return bool(wf.route.verbs or wf.route.objects or wf.route.phrases)


class Router:
    def __init__(self, embedder: Embedder | None, workflows: dict[str, Workflow], tools: list[ToolSpec],
                 min_similarity: float = 0.4):
        self.embedder = embedder
        self.min_similarity = min_similarity  # for workflows without cues, routed by their description alone
        self.workflows = workflows
        self.tools = tools
        self._names = list(workflows)
        self._wf_vecs = None
        self._tool_vecs = None
        self._example_vecs: dict[str, np.ndarray] = {}
        if embedder is not None:
            if self._names:
                self._wf_vecs = _encode_cached(embedder, [self.describe(wf) for wf in workflows.values()])
            for wf in workflows.values():
                if not has_cues(wf) and wf.examples:
                    self._example_vecs[wf.name] = _encode_cached(embedder, list(wf.examples))
            self._tool_vecs = _encode_cached(embedder, [f"{t.name}: {t.description}" for t in tools]) if tools else None
        self._queries: dict[str, np.ndarray] = {}

    @staticmethod
    def describe(wf: Workflow) -> str:
        """What a job does, for similarity: its description and the first line of each tool it calls."""
        lines = [wf.description]
        for step in wf.steps:
            try:
                lines.append(get_tool(step.tool).description.splitlines()[0])
            except Exception:  # validated at load time; a tool unregistered since is not worth failing over
                continue
        return " ".join(dict.fromkeys(lines))

    def prime(self, requests: list[str]) -> None:
        """Encode many requests in one batch (a test set, a benchmark): far cheaper than one by one."""
        todo = [r for r in dict.fromkeys(requests) if r not in self._queries]
        if self.embedder is not None and todo:
            self._queries.update(zip(todo, self.embedder.encode(todo)))

    def _query(self, text: str) -> np.ndarray:
        if text not in self._queries:  # the same request is routed and ranked several times per run
            self._queries[text] = self.embedder.encode([text])[0]
        return self._queries[text]

    def similarities(self, request: str) -> dict[str, float]:
        """Cosine similarity of the request to each job's description (for cue-less workflows, the best
        of the description and the examples)."""
        if self.embedder is None or self._wf_vecs is None:
            return {}
        q = self._query(request)
        sims = {name: float(s) for name, s in zip(self._names, self._wf_vecs @ q)}
        for name, vecs in self._example_vecs.items():
            sims[name] = max(sims[name], float((vecs @ q).max()))
        return sims

    def score(self, wf: Workflow, request: str, signals: dict[str, bool], similarity: float) -> JobScore:
        cues = wf.route
        matched: list[str] = []
        evidence = 0.0
        if not has_cues(wf) and similarity >= self.min_similarity:
            evidence += CUELESS_EVIDENCE
            matched.append(f"description:{similarity:.2f}")
        verb = _stems(tuple(cues.verbs))
        if verb and (m := verb.search(request)):
            evidence += VERB_WEIGHT
            matched.append(f"verb:{m.group(1).lower()}")
        objects = _stems(tuple(cues.objects))
        if objects:
            found = list(dict.fromkeys(m.group(1).lower() for m in objects.finditer(request)))
            if found:
                evidence += OBJECT_WEIGHT + EXTRA_OBJECT_WEIGHT * min(2, len(found) - 1)
                matched += [f"object:{w}" for w in found[:3]]
        context = _stems(tuple(cues.context))
        if context and (m := context.search(request)):
            evidence += CONTEXT_WEIGHT
            matched.append(f"context:{m.group(1).lower()}")
        phrases = [p for p in cues.phrases if re.search(p, request, re.I)]
        if phrases:
            evidence += PHRASE_WEIGHT * min(2, len(phrases))
            matched += [f"phrase:{p}" for p in phrases[:2]]
        # Signals only count for a job the request already points at.
        if evidence:
            for name, weight in cues.signals.items():
                absent = name.startswith("not_")
                if bool(signals.get(name.removeprefix("not_"))) != absent:
                    evidence += weight
                    matched.append(f"signal:{name}{weight:+g}")
        if wf.needs_film and evidence > 0:
            evidence += FILM_FIT if signals.get("film_given") else -FILM_FIT
        return JobScore(wf.name, evidence + SIMILARITY_WEIGHT * similarity, evidence, matched)

    def route(self, request: str, signals: dict[str, bool]) -> Route:
        sims = self.similarities(request)
        scores = sorted((self.score(wf, request, signals, sims.get(name, 0.0)) for name, wf in self.workflows.items()),
                        key=lambda s: s.score, reverse=True)
        if not scores:
            return Route(None, 0.0, [], signals=signals)
        ranking = [(s.workflow, confidence(s.score)) for s in scores]
        candidates = [s.workflow for s in scores if s.evidence >= MIN_EVIDENCE]
        best = scores[0]
        if best.evidence >= MIN_EVIDENCE:
            return Route(best.workflow, best.score, ranking, best.matched, "rules", signals, candidates)
        fallback = FALLBACK if FALLBACK in self.workflows else None
        why = [f"no job matched (best {best.workflow} {best.score:.2f}); answering from knowledge"]
        return Route(fallback, best.score, ranking, why, "fallback", signals, candidates)

    def relevant_tools(self, request: str, k: int = 8) -> list[ToolSpec]:
        if self.embedder is None or self._tool_vecs is None:
            return self.tools[:k]
        q = self._query(request)
        order = np.argsort(-(self._tool_vecs @ q))[:k]
        return [self.tools[i] for i in order]
