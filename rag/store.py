"""chromadb persistence: one collection per kind, embeddings always computed by us.

chromadb must never fetch its default ONNX model, so every collection is opened with an explicit
embedding function wrapping tools/core/embeddings.py, and every add/query passes vectors directly.
A generation file beside the database changes on every write, so in-memory caches (the BM25
index) notice writes made by other processes too, and so does the chromadb client, which is reopened
(its vector index is kept in memory per process).
"""
from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from tools.core.types import ToolError

COLLECTION_PREFIX = "kb-"
GENERATION_FILE = "kb-generation"


class MiniLMEmbeddingFunction:
    """chromadb EmbeddingFunction over the project's offline Embedder."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder

    def __call__(self, input):
        return list(self._embedder.encode(list(input)))

    def embed_query(self, input):
        return self(input)

    @staticmethod
    def name() -> str:
        return "animstudio-sentence-transformers"

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"model_path": str(self._embedder.path)}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        from tools.core.embeddings import Embedder

        return MiniLMEmbeddingFunction(Embedder(Path(config["model_path"])))

    def validate_config(self, config: dict[str, Any]) -> None:
        return None

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        return None


_OPEN_LOCK = threading.Lock()


class ChromaStore:
    def __init__(self, persist_dir: Path, embedder) -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.persist_dir = Path(persist_dir)
        try:
            self.persist_dir.mkdir(parents=True, exist_ok=True)
            with _OPEN_LOCK:  # chromadb's shared client cache races when threads open one folder at once
                self.client = chromadb.PersistentClient(path=str(self.persist_dir),
                                                        settings=ChromaSettings(anonymized_telemetry=False))
        except Exception as exc:  # chromadb raises many types for a broken/locked folder
            raise ToolError(f"Cannot open the knowledge base at {self.persist_dir}: {exc}",
                            "check rag.persist_dir; delete the folder to rebuild it from knowledge/") from exc
        self.embedder = embedder
        self.embedding_function = MiniLMEmbeddingFunction(embedder)
        self._collections: dict[str, Any] = {}
        self._known = self.generation()  # the last write this store made or saw

    def _reopen_if_changed(self) -> None:
        """chromadb keeps its vector index in memory per process: after another process writes the folder
        (two runs at once), this process's reads fail ("Error finding id") until the client is reopened."""
        now = self.generation()
        if now == self._known:
            return
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient
        from chromadb.config import Settings as ChromaSettings

        with _OPEN_LOCK:
            SharedSystemClient.clear_system_cache()  # only drops the cache: open clients keep their system
            self.client = chromadb.PersistentClient(path=str(self.persist_dir),
                                                    settings=ChromaSettings(anonymized_telemetry=False))
        self._collections = {}
        self._known = now

    # -- collections -----------------------------------------------------------------------
    def collection(self, kind: str, create: bool = True):
        self._reopen_if_changed()
        if kind in self._collections:
            return self._collections[kind]
        name = COLLECTION_PREFIX + kind
        if not create and kind not in self.kinds():
            return None
        col = self.client.get_or_create_collection(
            name=name, embedding_function=self.embedding_function,
            metadata={"hnsw:space": "cosine", "embedding_model": str(self.embedder.path)},
        )
        self._collections[kind] = col
        return col

    def kinds(self) -> list[str]:
        self._reopen_if_changed()
        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sorted(n[len(COLLECTION_PREFIX):] for n in names if n.startswith(COLLECTION_PREFIX))

    def counts(self) -> dict[str, int]:
        return {kind: self.collection(kind).count() for kind in self.kinds()}

    # -- writes ----------------------------------------------------------------------------
    def upsert(self, kind: str, ids: list[str], texts: list[str], metadatas: list[dict[str, Any]],
               embeddings: np.ndarray) -> None:
        if not ids:
            return
        col = self.collection(kind)
        batch = 2000  # below chromadb's max batch size on every backend
        for start in range(0, len(ids), batch):
            end = start + batch
            col.upsert(ids=ids[start:end], documents=texts[start:end], metadatas=metadatas[start:end],
                       embeddings=[list(map(float, v)) for v in embeddings[start:end]])
        self.bump_generation()

    def delete(self, kind: str, where: dict[str, Any]) -> None:
        col = self.collection(kind, create=False)
        if col is not None:
            col.delete(where=where)
            self.bump_generation()

    # -- reads -----------------------------------------------------------------------------
    def all_chunks(self, kind: str, with_vectors: bool = False):
        """(ids, texts, metadatas, vectors or None) of one collection."""
        col = self.collection(kind)
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        got = col.get(include=include)
        vectors = None
        if with_vectors:
            emb = got.get("embeddings")
            vectors = np.asarray(emb, dtype=np.float32) if emb is not None and len(emb) else None
        return (list(got["ids"]), list(got["documents"] or []), [dict(m or {}) for m in got["metadatas"] or []],
                vectors)

    def metadatas(self, kind: str, where: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        col = self.collection(kind)
        got = col.get(where=where, include=["metadatas"]) if where else col.get(include=["metadatas"])
        return [dict(m or {}) for m in got["metadatas"] or []]

    def query(self, kind: str, vector: np.ndarray, n: int, where: dict[str, Any] | None,
              count: int | None = None) -> list[tuple[str, float]]:
        """Nearest (id, cosine distance) pairs. Only distances are fetched: texts and metadata
        come from the in-memory index, which makes the query several times cheaper."""
        col = self.collection(kind)
        count = col.count() if count is None else count
        if count == 0:
            return []
        kwargs: dict[str, Any] = {"query_embeddings": [vector.astype(np.float32)], "n_results": min(n, count),
                                  "include": ["distances"]}
        if where:
            kwargs["where"] = where
        got = col.query(**kwargs)
        return [(i, float(d)) for i, d in zip(got["ids"][0], got["distances"][0])]

    # -- change tracking -------------------------------------------------------------------
    @property
    def _generation_path(self) -> Path:
        return self.persist_dir / GENERATION_FILE

    def bump_generation(self) -> None:
        tmp = self._generation_path.with_suffix(f".{os.getpid()}.tmp")
        mark = uuid.uuid4().hex
        tmp.write_text(mark, encoding="utf-8")
        os.replace(tmp, self._generation_path)
        self._known = mark

    def generation(self) -> str:
        try:
            return self._generation_path.read_text(encoding="utf-8")
        except OSError:
            return ""
