"""Routing by meaning: embedding similarity of the request to workflow and tool descriptions.

A tiny local model is not trusted to route; it only fills the typed slots of the workflow chosen here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.core.embeddings import Embedder
from tools.core.registry import ToolSpec
from workflows import Workflow

_VECTORS: dict[tuple, np.ndarray] = {}


def _encode_cached(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Workflow/tool descriptions rarely change: encode them once per process."""
    key = (str(embedder.path), tuple(texts))
    if key not in _VECTORS:
        _VECTORS[key] = embedder.encode(texts)
    return _VECTORS[key]


@dataclass
class Route:
    workflow: str | None
    similarity: float
    ranking: list[tuple[str, float]]


class Router:
    def __init__(self, embedder: Embedder | None, workflows: dict[str, Workflow], tools: list[ToolSpec]):
        self.embedder = embedder
        self.workflows = workflows
        self.tools = tools
        self._wf_names: list[str] = []
        self._wf_vecs = None
        self._tool_vecs = None
        if embedder is not None:
            texts, names = [], []
            for wf in workflows.values():
                for text in [wf.description, *wf.examples]:
                    texts.append(text)
                    names.append(wf.name)
            self._wf_names = names
            self._wf_vecs = _encode_cached(embedder, texts) if texts else None
            self._tool_vecs = _encode_cached(embedder, [f"{t.name}: {t.description}" for t in tools]) if tools else None
        self._queries: dict[str, np.ndarray] = {}

    def _query(self, text: str) -> np.ndarray:
        if text not in self._queries:  # the same request is routed and ranked several times per run
            self._queries[text] = self.embedder.encode([text])[0]
        return self._queries[text]

    def route(self, request: str, min_similarity: float, film_given: bool = False) -> Route:
        if self.embedder is None or self._wf_vecs is None:
            return Route(None, 0.0, [])
        q = self._query(request)
        sims = self._wf_vecs @ q
        best: dict[str, float] = {}
        for name, sim in zip(self._wf_names, sims):
            wf = self.workflows[name]
            # A workflow that needs a film is more likely when one was given, less likely without.
            adjusted = float(sim) + ((0.05 if film_given else -0.1) if wf.needs_film else 0.0)
            best[name] = max(best.get(name, -1.0), adjusted)
        ranking = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
        top, score = ranking[0]
        return Route(top if score >= min_similarity else None, score, ranking)

    def relevant_tools(self, request: str, k: int = 8) -> list[ToolSpec]:
        if self.embedder is None or self._tool_vecs is None:
            return self.tools[:k]
        q = self._query(request)
        order = np.argsort(-(self._tool_vecs @ q))[:k]
        return [self.tools[i] for i in order]
