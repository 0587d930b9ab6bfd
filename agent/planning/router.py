"""Routing by meaning: embedding similarity of the request to workflow and tool descriptions.

A tiny local model is not trusted to route; it only fills the typed slots of the workflow chosen here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.embeddings import Embedder
from tools.registry import ToolSpec
from workflows import Workflow


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
            self._wf_vecs = embedder.encode(texts) if texts else None
            self._tool_vecs = embedder.encode([f"{t.name}: {t.description}" for t in tools]) if tools else None

    def route(self, request: str, min_similarity: float, film_given: bool = False) -> Route:
        if self.embedder is None or self._wf_vecs is None:
            return Route(None, 0.0, [])
        q = self.embedder.encode([request])[0]
        sims = self._wf_vecs @ q
        best: dict[str, float] = {}
        for name, sim in zip(self._wf_names, sims):
            wf = self.workflows[name]
            # A workflow that needs a film is less likely when none was given (and vice versa).
            adjusted = float(sim) + (0.05 if wf.needs_film and film_given else 0.0)
            best[name] = max(best.get(name, -1.0), adjusted)
        ranking = sorted(best.items(), key=lambda kv: kv[1], reverse=True)
        top, score = ranking[0]
        return Route(top if score >= min_similarity else None, score, ranking)

    def relevant_tools(self, request: str, k: int = 8) -> list[ToolSpec]:
        if self.embedder is None or self._tool_vecs is None:
            return self.tools[:k]
        q = self.embedder.encode([request])[0]
        order = np.argsort(-(self._tool_vecs @ q))[:k]
        return [self.tools[i] for i in order]
