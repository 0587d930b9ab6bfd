"""Keyword search (BM25 via rank-bm25) and reciprocal rank fusion.

rank-bm25 computes the model (IDF table, document lengths, k1/b); scoring uses an inverted
index over the same statistics, because BM25Okapi.get_scores walks every document in Python
for every query term (~10 ms per query at 10k chunks) while the postings touch only the
documents that contain a term. tests/rag/test_keyword.py checks both give the same scores.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi

from tools.core.words import FUNCTION_WORDS

_TOKEN = re.compile(r"[a-z0-9]+")
# BM25's IDF already discounts common words; the function words only keep query noise ("what", "the") from
# producing thousands of postings to score.
STOPWORDS = FUNCTION_WORDS


def tokenize(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return [t for t in _TOKEN.findall(folded) if t not in STOPWORDS]


def matches(metadata: dict[str, Any], where: dict[str, Any] | None) -> bool:
    """Evaluate the simple where-clauses the knowledge base builds ($and / $or / $in / equality)."""
    if not where:
        return True
    for key, cond in where.items():
        if key == "$and":
            if not all(matches(metadata, c) for c in cond):
                return False
        elif key == "$or":
            if not any(matches(metadata, c) for c in cond):
                return False
        elif isinstance(cond, dict) and "$in" in cond:
            if metadata.get(key) not in cond["$in"]:
                return False
        elif isinstance(cond, dict) and "$eq" in cond:
            if metadata.get(key) != cond["$eq"]:
                return False
        elif metadata.get(key) != cond:
            return False
    return True


class KeywordIndex:
    """BM25 over one collection's chunks; rebuilt when the collection changes."""

    def __init__(self, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]],
                 k1: float = 1.5, b: float = 0.75):
        self.ids = ids
        self.position = {doc_id: i for i, doc_id in enumerate(ids)}
        self.texts = texts
        self.metadatas = metadatas
        corpus = [tokenize(t) for t in texts]
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if not ids:
            return
        # rank-bm25 refuses an all-empty corpus; a placeholder token keeps lengths ≥ 1.
        model = BM25Okapi([doc or ["\x00"] for doc in corpus], k1=k1, b=b)
        self.model = model
        lengths = np.asarray(model.doc_len, dtype=np.float64)
        norm = k1 * (1 - b + b * lengths / model.avgdl)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, freqs in enumerate(model.doc_freqs):
            for term, tf in freqs.items():
                postings[term].append((i, tf))
        for term, pairs in postings.items():
            docs = np.fromiter((d for d, _ in pairs), dtype=np.int64, count=len(pairs))
            tf = np.fromiter((f for _, f in pairs), dtype=np.float64, count=len(pairs))
            weight = model.idf.get(term, 0.0) * tf * (k1 + 1) / (tf + norm[docs])
            self._postings[term] = (docs, weight)

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.ids), dtype=np.float64)
        for term in tokenize(query):
            hit = self._postings.get(term)
            if hit is not None:  # a term's postings hold each document once: plain fancy-index add
                out[hit[0]] += hit[1]
        return out

    def search(self, query: str, k: int, where: dict[str, Any] | None = None) -> list[tuple[int, float]]:
        """Top-k (position, score) pairs with a positive score that pass the where-clause."""
        if not self.ids:
            return []
        scores = self.scores(query)
        positive = np.flatnonzero(scores > 0)
        if where is None and len(positive) > 4 * k:  # no filter: only the top k need sorting
            positive = positive[np.argpartition(-scores[positive], k)[:k]]
        order = positive[np.argsort(-scores[positive], kind="stable")]
        out: list[tuple[int, float]] = []
        for i in order:
            if scores[i] <= 0 or len(out) >= k:
                break
            if matches(self.metadatas[i], where):
                out.append((int(i), float(scores[i])))
        return out


def reciprocal_rank_fusion(rankings: Iterable[list[str]], k: int = 60,
                           weights: Iterable[float] | None = None) -> list[tuple[str, float]]:
    """RRF (Cormack et al. 2009): score(d) = Σ w / (k + rank). Rank-only, so BM25 and cosine
    scores never need to be put on one scale."""
    rankings = list(rankings)
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    fused: dict[str, float] = defaultdict(float)
    for ranking, weight in zip(rankings, weights):
        for rank, doc_id in enumerate(ranking, start=1):
            fused[doc_id] += weight / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
