"""Shared fixtures: one embedder and one ingested copy of knowledge/ per test session
(loading the model and encoding ~120 chunks costs seconds on two shared cores)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from tools.core.settings.loader import PROJECT_ROOT, settings_from_dict

KNOWLEDGE_DIR = PROJECT_ROOT / "knowledge"


def rag_settings(persist_dir: Path, **rag):
    return settings_from_dict({"rag": {"persist_dir": str(persist_dir), **rag}})


@pytest.fixture(scope="session")
def embedder():
    from tools.core.embeddings import get_embedder

    return get_embedder(settings_from_dict({}))


@pytest.fixture()
def make_kb(tmp_path, embedder):
    """A fresh, empty KnowledgeBase in tmp_path (reopenable on the same folder)."""
    from rag.knowledge_base import open_knowledge_base

    def make(persist_dir: Path | None = None, **rag):
        return open_knowledge_base(rag_settings(persist_dir or tmp_path / "chroma", **rag), embedder=embedder)

    return make


@pytest.fixture(scope="session")
def shipped_kb(tmp_path_factory, embedder):
    """knowledge/ ingested once (read-only for tests)."""
    from rag.ingest import ingest_path
    from rag.knowledge_base import open_knowledge_base

    kb = open_knowledge_base(rag_settings(tmp_path_factory.mktemp("shipped") / "chroma"), embedder=embedder)
    report = ingest_path(kb, KNOWLEDGE_DIR)
    assert not report.failed, report.failed
    assert len(report.added) >= 20
    return kb
