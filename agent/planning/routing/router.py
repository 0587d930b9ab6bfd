"""Routing by the deliverable: what the user wants back decides the job, read from the head clause's
verb and object; a purpose clause ("so I can train a LoRA") counts half; other nouns are arguments.

Each workflow's YAML says how its job is recognised (`route:` — verbs, objects, phrases, signal
weights, English and Italian). The head clause scores against every job, the verb that opens it
(the head verb) counting twice; the best job wins when it has real evidence (a verb, an object or a
phrase), otherwise a question is answered from knowledge. A request with two deliverables ("cut the
scene and put subtitles on it") routes each on its own and plans both (deliverable.py); a job whose
tools another chosen job already runs adds nothing and is dropped. A second job scoring within
CLOSE_MARGIN of the best is kept as the close reading (asked about when a person is there).
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

from agent.planning.routing.deliverable import (
    addressed_person,
    expand_contractions,
    imperative_words,
    light_verbs,
    names_a_kind,
    read_parts,
    without_fillers,
)
from tools.core.embeddings import Embedder
from tools.core.registry import ToolSpec, get_tool
from workflows import Workflow

VERB_WEIGHT, OBJECT_WEIGHT, EXTRA_OBJECT_WEIGHT, PHRASE_WEIGHT, CONTEXT_WEIGHT = 1.0, 2.0, 0.5, 1.5, 0.5
SIMILARITY_WEIGHT = 1.5  # × cosine similarity to the description (0.1–0.6 in practice)
FILM_FIT = 0.5  # a job that needs a film: + when one is given, − when not
MIN_EVIDENCE = 1.0  # below this cue score (similarity excluded) nothing matched: fall back

FALLBACK = "answer_knowledge"  # the job for requests no workflow claims
HEAD_VERB_WEIGHT = 1.0  # the verb that opens the head clause counts twice: it names the deliverable
PURPOSE_SHARE = 0.5  # cues in a purpose clause ("so I can train a LoRA") count half
# A workflow of yours without cues, similar enough to its description or examples: as much evidence as
# a head verb and its object (your examples say how you phrase the job, verb and all).
CUELESS_EVIDENCE = VERB_WEIGHT + OBJECT_WEIGHT + HEAD_VERB_WEIGHT
CLOSE_MARGIN = 0.25  # a second job this close to the best (in points, about one context word) is worth asking about

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
    jobs: list[str] = field(default_factory=list)  # the deliverables' jobs in order (two for two deliverables)
    close: str | None = None  # a second job that reads the request about as well

    def __post_init__(self) -> None:
        if not self.jobs and self.workflow:
            self.jobs = [self.workflow]

    @property
    def confidence(self) -> float:
        return self.ranking[0][1] if self.ranking else 0.0


def found_all(matched: list[str]) -> list[str]:
    """The head clause's own matches (not those of a purpose clause)."""
    return [m for m in matched if not m.startswith("purpose ")]


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

    def cues(self, wf: Workflow, text: str, *, question: bool = False, english: bool = False
             ) -> tuple[float, list[str], set[int]]:
        """Points for the job's verb, objects, context words and phrases in `text`; where its verb and
        objects matched. In a question, a cue word inside an indefinite noun phrase names a kind of thing,
        not one to make or look at ("what makes a parody funny?"), and does not count. A plainly English
        request does not meet the Italian cues."""
        cues = wf.route
        lists = {name: tuple(cues.english(name) if english else getattr(cues, name))
                 for name in ("verbs", "objects", "context")}
        matched: list[str] = []
        points = 0.0
        at: set[int] = set()
        kept = (lambda m: not names_a_kind(text, m.start())) if question else (lambda m: True)
        verb = _stems(lists["verbs"])
        if verb and (m := next((h for h in verb.finditer(text) if kept(h)), None)):
            points += VERB_WEIGHT
            matched.append(f"verb:{m.group(1).lower()}")
            at.add(m.start())
        objects = _stems(lists["objects"])
        if objects:
            hits = [h for h in objects.finditer(text) if kept(h) and not addressed_person(text, h.start(), english)]
            at |= {m.start() for m in hits}
            found = list(dict.fromkeys(m.group(1).lower() for m in hits))
            if found:
                points += OBJECT_WEIGHT + EXTRA_OBJECT_WEIGHT * min(2, len(found) - 1)
                matched += [f"object:{w}" for w in found[:3]]
        context = _stems(lists["context"])
        if context and (m := context.search(text)):
            points += CONTEXT_WEIGHT
            matched.append(f"context:{m.group(1).lower()}")
        phrases = [p for p in cues.phrases if re.search(p, text, re.I)]
        if phrases:
            points += PHRASE_WEIGHT * min(2, len(phrases))
            matched += [f"phrase:{p}" for p in phrases[:2]]
        return points, matched, at

    def score(self, wf: Workflow, request: str, signals: dict[str, bool], similarity: float, *,
              purpose: str = "", head_verb_at: int | None = None) -> JobScore:
        """`request` is the head clause (or the whole request); `purpose` its purpose clause."""
        matched: list[str] = []
        evidence = 0.0
        if not has_cues(wf) and similarity >= self.min_similarity:
            evidence += CUELESS_EVIDENCE
            matched.append(f"description:{similarity:.2f}")
        english = bool(signals.get("english"))
        points, found, at = self.cues(wf, request, question=bool(signals.get("question")), english=english)
        evidence += points
        matched += found
        if head_verb_at is not None and head_verb_at in at:
            evidence += HEAD_VERB_WEIGHT
            matched.append("head verb")
        if purpose:
            extra, found, _ = self.cues(wf, purpose, english=english)
            if extra:
                evidence += PURPOSE_SHARE * extra
                matched += [f"purpose {m}" for m in found[:2]]
        # A signal that names the job's object (a stated time range for a clip by times) counts as that
        # object, as an object word would, when no object word did.
        named = [n for n in wf.route.object_signals if signals.get(n)]
        if named and not any(m.startswith("object:") for m in found_all(matched)):
            evidence += OBJECT_WEIGHT
            matched.append(f"object:{named[0]}")
        # Signals only count for a job the request already points at.
        if evidence:
            for name, weight in wf.route.signals.items():
                absent = name.startswith("not_")
                if bool(signals.get(name.removeprefix("not_"))) != absent:
                    evidence += weight
                    matched.append(f"signal:{name}{weight:+g}")
        if wf.needs_film and evidence > 0:
            evidence += FILM_FIT if signals.get("film_given") else -FILM_FIT
        return JobScore(wf.name, evidence + SIMILARITY_WEIGHT * similarity, evidence, matched)

    @property
    def _verbs(self) -> re.Pattern | None:
        if not hasattr(self, "_verb_pattern"):
            verbs = tuple(v for wf in self.workflows.values() for v in wf.route.verbs)
            self._verb_pattern = _stems(verbs + tuple(imperative_words()))
        return self._verb_pattern

    def _verbs_of(self, english: bool) -> re.Pattern | None:
        """The jobs' verbs and the plain imperatives; a plainly English request meets no Italian verb cue."""
        if not english:
            return self._verbs
        if not hasattr(self, "_english_verb_pattern"):
            verbs = tuple(v for wf in self.workflows.values() for v in wf.route.english("verbs"))
            self._english_verb_pattern = _stems(verbs + tuple(imperative_words()))
        return self._english_verb_pattern

    def head_verb_at(self, text: str, english: bool = False) -> int | None:
        """Where the first verb any job (or a plain imperative) knows opens the clause; a light verb ("tell me",
        "give me") names no deliverable, so the next verb is the head."""
        verbs = self._verbs_of(english)
        if not verbs:
            return None
        light = _stems(tuple(light_verbs()))
        generic = _stems(tuple(imperative_words()))
        for m in verbs.finditer(text):
            if light and light.match(text, m.start()):
                continue
            if generic and generic.match(text, m.start()):
                # A generic verb ("make", "turn") names no deliverable; in "turn this clip into a spoof" what
                # it makes does: the first job word after "into" ("in" + article). A causative ("have Pip
                # say it", "falla dire a Gull", "get him to read it") is headed by the verb it causes: the
                # next job word, when it is a verb a few words on. Otherwise no head verb.
                into = re.search(r"\b(?:into|in\s+(?:un|una|uno))\b", text[m.end():], re.I)
                nxt = self._job_words.search(text, m.end() + into.end()) if into and self._job_words else None
                if nxt is None and not into:
                    return self._caused_verb_at(text, m.end())
                return nxt.start() if nxt else None
            return m.start()
        return None

    def _caused_verb_at(self, text: str, after: int, reach: int = 3) -> int | None:
        """Where the verb a causative causes starts: the next job word, if it is a job's verb (not an object:
        "make a clip" has none) within `reach` words of the generic verb."""
        nxt = self._job_words.search(text, after) if self._job_words else None
        if nxt is None or len(re.findall(r"[\w'’]+", text[after:nxt.start()])) > reach:
            return None
        if not hasattr(self, "_job_verb_pattern"):
            self._job_verb_pattern = _stems(tuple(v for wf in self.workflows.values() for v in wf.route.verbs))
        return nxt.start() if self._job_verb_pattern and self._job_verb_pattern.match(text, nxt.start()) else None

    @property
    def _job_words(self) -> re.Pattern | None:
        if not hasattr(self, "_job_word_pattern"):
            words = tuple(w for wf in self.workflows.values() for w in (*wf.route.verbs, *wf.route.objects))
            self._job_word_pattern = _stems(words)
        return self._job_word_pattern

    def generic_verb(self, text: str) -> bool:
        """Does the clause's head verb need an object to name a deliverable ("make it silly", "give me more")?"""
        at = self.head_verb_at(text)
        generic = _stems(tuple(imperative_words()))
        return at is None or bool(generic and generic.match(text, at))

    def opens_with_verb(self, text: str) -> bool:
        m = self._verbs.match(without_fillers(text)) if self._verbs else None
        return m is not None

    def describes_something(self, request: str) -> bool:
        """Has the request words beyond the jobs' cues, the tones and function words ("the chase on the
        rooftops")? Then they describe what to work on; otherwise ("make this film funny") nothing does."""
        from agent.planning.routing.deliverable import function_words
        from agent.planning.slots.extract import vocabulary

        if not hasattr(self, "_cue_stems"):
            cues = {w.rstrip("$").lower() for wf in self.workflows.values()
                    for w in (*wf.route.verbs, *wf.route.objects, *wf.route.context) if " " not in w}
            tones = {w.lower() for ws in vocabulary()["tones"].values() for w in ws}
            self._cue_stems = (tuple(sorted(c for c in cues if len(c) >= 3)), tones | function_words())
        stems, plain = self._cue_stems
        words = re.findall(r"[^\W\d_]+", request.lower())
        return any(len(w) >= 3 and w not in plain and not w.startswith(stems) for w in words)

    def part_of(self, job: str, others: list[str]) -> bool:
        """Does another chosen job already run every tool of `job` (a LoRA job that also trains)?"""
        tools = {s.tool for s in self.workflows[job].steps}
        return bool(tools) and any(o != job and tools <= {s.tool for s in self.workflows[o].steps} for o in others)

    def folds_into(self, job: str, others: list[str]) -> bool:
        """Is `job`'s deliverable already made by another chosen job: it runs every tool of `job` and makes
        the same kind of thing (its `route.task`)? "make a dataset and train on it" is one LoRA job; "train
        it, then give me 4 samples" asks for pictures besides the LoRA, a deliverable of its own."""
        task = self.workflows[job].route.task
        return any(o != job and self.part_of(job, [o]) and self.workflows[o].route.task == task for o in others)

    def route(self, request: str, signals: dict[str, bool]) -> Route:
        request = expand_contractions(request)  # and embedded questions in direct order
        parts = read_parts(request, self.opens_with_verb, bool(signals.get("english")))
        if len(parts.deliverables) > 1:
            routes = [self._route_part(part, parts.purpose, signals) for part in parts.deliverables]
            jobs: list[str] = []
            for part, r in zip(parts.deliverables, routes):
                # A deliverable names what to make (an object or a phrase, not a bare verb: "make it silly"
                # qualifies the first); the knowledge answer never adds one: it is what is left unclaimed.
                names_it = len(part.split()) >= 2 and (any(m.startswith(("object:", "phrase:")) for m in r.matched)
                                                       or not self.generic_verb(part))
                if names_it and r.method == "rules" and r.workflow and r.workflow not in jobs and r.workflow != FALLBACK:
                    jobs = [j for j in jobs if not self.folds_into(j, [r.workflow])]
                    if not self.folds_into(r.workflow, jobs):
                        jobs.append(r.workflow)
            if len(jobs) > 1:
                first = next(r for r in routes if r.workflow == jobs[0])
                why = [f"two deliverables: {' | '.join(parts.deliverables)}", *first.matched]
                return Route(jobs[0], first.score, first.ranking, why, "rules", signals, first.candidates, jobs)
        return self._route_part(parts.head, parts.purpose, signals, whole=request)

    def _route_part(self, text: str, purpose: str, signals: dict[str, bool], whole: str | None = None) -> Route:
        sims = self.similarities(whole or text)
        # a question's verb orders nothing
        at = None if signals.get("question") else self.head_verb_at(text, bool(signals.get("english")))
        scores = sorted((self.score(wf, text, signals, sims.get(name, 0.0), purpose=purpose, head_verb_at=at)
                         for name, wf in self.workflows.items()), key=lambda s: s.score, reverse=True)
        if not scores:
            return Route(None, 0.0, [], signals=signals)
        ranking = [(s.workflow, confidence(s.score)) for s in scores]
        candidates = [s.workflow for s in scores if s.evidence >= MIN_EVIDENCE]
        best = scores[0]
        if best.evidence >= MIN_EVIDENCE:
            second = next((s for s in scores[1:] if s.evidence >= MIN_EVIDENCE and s.workflow != FALLBACK
                           and not self.part_of(s.workflow, [best.workflow])
                           and not self.part_of(best.workflow, [s.workflow])), None)
            close = second.workflow if second and best.score - second.score < CLOSE_MARGIN else None
            return Route(best.workflow, best.score, ranking, best.matched, "rules", signals, candidates, close=close)
        fallback = FALLBACK if FALLBACK in self.workflows else None
        why = [f"no job matched (best {best.workflow} {best.score:.2f}); answering from knowledge"]
        return Route(fallback, best.score, ranking, why, "fallback", signals, candidates)

    def relevant_tools(self, request: str, k: int = 8) -> list[ToolSpec]:
        if self.embedder is None or self._tool_vecs is None:
            return self.tools[:k]
        q = self._query(request)
        order = np.argsort(-(self._tool_vecs @ q))[:k]
        return [self.tools[i] for i in order]
