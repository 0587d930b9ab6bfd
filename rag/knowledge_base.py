"""KnowledgeBase: chromadb vectors + BM25 keywords, fused with reciprocal rank fusion.

Implements rag.types.Retriever (the agent's retrieve node) and tools.core.context.KnowledgeStore
(tools push e.g. scene descriptions with add_documents). File ingestion lives in rag/ingest.py.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from rag.dense import DenseIndex
from rag.keyword import KeywordIndex, reciprocal_rank_fusion
from rag.markdown import KIND_RE, Chunk, KnowledgeDocument, chunk_document, content_hash, normalise_metadata
from rag.store import ChromaStore
from rag.types import Evidence
from tools.core.types import ToolError

FLAG_FILTERS = {"film": "film", "films": "film", "character": "character", "characters": "character",
                "tag": "tag", "tags": "tag"}


class KnowledgeStats(BaseModel):
    persist_dir: str
    embedding_model: str
    chunks_by_kind: dict[str, int]
    sources: int
    total_chunks: int


class SourceInfo(BaseModel):
    source: str
    kind: str
    title: str
    chunks: int
    source_hash: str
    origin: str = "file"
    metadata: dict[str, Any] = Field(default_factory=dict)


def build_where(filters: dict[str, Any] | None) -> tuple[list[str] | None, dict[str, Any] | None]:
    """Filters from the intent/CLI → (kinds to search, chroma where-clause).

    film/character/tag are case-insensitive ("film": "Luca" matches front matter `film: Luca`);
    other keys are exact metadata matches. A list value means any of them.
    """
    if not filters:
        return None, None
    kinds: list[str] | None = None
    clauses: list[dict[str, Any]] = []
    for key, value in filters.items():
        if value is None or value == "" or value == []:
            continue
        values = [str(v) if not isinstance(v, (int, float, bool)) else v for v in
                  (value if isinstance(value, (list, tuple, set)) else [value])]
        if key == "kind":
            kinds = [str(v).strip().lower() for v in values]
        elif key in FLAG_FILTERS:
            flags = [{f"{FLAG_FILTERS[key]}:{str(v).strip().casefold()}": True} for v in values]
            clauses.append(flags[0] if len(flags) == 1 else {"$or": flags})
        else:
            clauses.append({key: values[0]} if len(values) == 1 else {key: {"$in": values}})
    where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
    return kinds, where


class KnowledgeBase:
    def __init__(self, persist_dir: Path, embedder, *, chunk_chars: int = 900, mode: str = "hybrid",
                 candidates: int = 30, rrf_k: int = 60, exact_search_max_chunks: int = 50_000) -> None:
        self.store = ChromaStore(persist_dir, embedder)
        self.embedder = embedder
        self.chunk_chars = chunk_chars
        self.mode = mode
        self.candidates = candidates
        self.rrf_k = rrf_k
        self._memory: tuple[str, KeywordIndex, DenseIndex | None] | None = None
        self.exact_search_max_chunks = exact_search_max_chunks
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._counts_cache: tuple[str, dict[str, int]] | None = None
        self._query_vectors: OrderedDict[str, Any] = OrderedDict()
        self.query_cache_size = 256  # the agent re-asks the same questions across nodes/iterations

    # -- writing -----------------------------------------------------------------------------
    def _encode(self, texts: list[str], label: str, progress=None):
        import numpy as np

        batch = 64
        vectors = []
        if progress is None:
            return self.embedder.encode(texts, batch_size=batch) if texts else np.zeros((0, 1), np.float32)
        with progress.task(label, total=len(texts)) as task:
            for start in range(0, len(texts), batch):
                vectors.append(self.embedder.encode(texts[start:start + batch], batch_size=batch))
                task.advance(len(texts[start:start + batch]))
        return np.vstack(vectors) if vectors else np.zeros((0, 1), np.float32)

    def _write(self, chunks: list[Chunk], replace: dict[str, Iterable[str] | None], label: str,
               progress=None) -> int:
        """Embed first (the slow, fallible part), then drop the replaced sources' old chunks and
        upsert the new ones grouped by kind, so a failed embedding never loses the old version."""
        vectors = self._encode([c.text for c in chunks], label, progress)
        for source, kinds in replace.items():
            self.remove_source(source, kinds)
        by_kind: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            by_kind.setdefault(str(chunk.metadata["kind"]), []).append(i)
        for kind, idx in by_kind.items():
            self.store.upsert(kind, [chunks[i].id for i in idx], [chunks[i].text for i in idx],
                              [chunks[i].metadata for i in idx], vectors[idx])
        return len(chunks)

    def remove_source(self, source: str, kinds: Iterable[str] | None = None) -> int:
        removed = 0
        for kind in list(kinds) if kinds is not None else self.store.kinds():
            found = self.store.metadatas(kind, {"source": source})
            if found:
                self.store.delete(kind, {"source": source})
                removed += len(found)
        return removed

    def replace_documents(self, docs: list[KnowledgeDocument], old_kinds: dict[str, list[str]] | None = None,
                          origin: str = "file", progress=None) -> int:
        """Swap each source's chunks for its new version's (in its old kinds too, if the front
        matter's kind changed). All documents are embedded in one batched pass."""
        chunks: list[Chunk] = []
        for doc in docs:
            for chunk in chunk_document(doc, self.chunk_chars):
                chunk.metadata["origin"] = origin
                chunks.append(chunk)
        old_kinds = old_kinds or {}
        replace = {doc.source: sorted(set(old_kinds.get(doc.source, [])) | {doc.kind}) for doc in docs}
        return self._write(chunks, replace, f"Embedding {len(chunks)} chunks", progress)

    def add_documents(self, kind: str, docs: list[dict[str, Any]]) -> int:
        """KnowledgeStore API for tools: each doc is {"text", optional "source", "title", "id",
        "metadata"} (other keys go to metadata). Documents are grouped by source; a source whose
        content is unchanged is skipped, a changed one replaces its old chunks. Returns chunks written."""
        kind = str(kind).strip().lower()
        if not KIND_RE.match(kind):
            raise ToolError(f"'{kind}' is not a valid knowledge kind", "use a short lowercase word, e.g. scenes")
        groups: dict[str, list[dict[str, Any]]] = {}
        for i, doc in enumerate(docs):
            if not isinstance(doc, dict) or not str(doc.get("text") or "").strip():
                raise ToolError(f"Document {i} for '{kind}' has no text", "pass dicts with a non-empty 'text' key")
            groups.setdefault(str(doc.get("source") or f"{kind}:pushed"), []).append(doc)
        pending: list[Chunk] = []
        replace: dict[str, list[str]] = {}
        known = kind in self.store.kinds()
        for source, group in groups.items():
            group_hash = content_hash(json.dumps(group, sort_keys=True, default=str))
            existing = self.store.metadatas(kind, {"source": source}) if known else []
            if existing and all(m.get("source_hash") == group_hash for m in existing):
                continue
            for j, doc in enumerate(group):
                meta = dict(doc.get("metadata") or {})
                meta.update({k: v for k, v in doc.items() if k not in ("text", "metadata", "id", "source", "title")})
                document = KnowledgeDocument(source=source, kind=kind, title=str(doc.get("title") or source),
                                             body=str(doc["text"]), metadata=normalise_metadata(meta),
                                             content_hash=group_hash)
                prefix = f"{kind}:{content_hash(source)}:{doc.get('id') or j}"
                for chunk in chunk_document(document, self.chunk_chars, id_prefix=prefix):
                    chunk.metadata["origin"] = "pushed"
                    pending.append(chunk)
            replace[source] = [kind]
        return self._write(pending, replace, f"Embedding {len(pending)} {kind} chunks") if pending else 0

    # -- reading -----------------------------------------------------------------------------
    def _indexes(self) -> tuple[KeywordIndex, DenseIndex | None]:
        """In-memory BM25 index (+ exact vector matrix when small enough), rebuilt on change."""
        generation = self.store.generation()
        with self._lock:
            if self._memory is None or self._memory[0] != generation:
                exact = sum(self.store.counts().values()) <= self.exact_search_max_chunks
                ids, texts, metas, kinds, vectors = [], [], [], [], []
                for kind in self.store.kinds():
                    i, t, m, v = self.store.all_chunks(kind, with_vectors=exact)
                    ids += i
                    texts += t
                    metas += m
                    kinds += [kind] * len(i)
                    if v is not None:
                        vectors.append(v)
                dense = None
                if exact:
                    matrix = np.vstack(vectors) if vectors else np.zeros((0, self.embedder.dimension), np.float32)
                    dense = DenseIndex(ids, matrix, kinds) if len(matrix) == len(ids) else None
                self._memory = (generation, KeywordIndex(ids, texts, metas), dense)
            return self._memory[1], self._memory[2]

    def _keyword_index(self) -> KeywordIndex:
        return self._indexes()[0]

    def search(self, query: str, k: int = 5, filters: dict[str, Any] | None = None,
               mode: str | None = None) -> list[Evidence]:
        """Hybrid search. mode: hybrid (default) | vector | keyword."""
        query = (query or "").strip()
        if not query or k <= 0:
            return []
        mode = mode or self.mode
        kinds, where = build_where(filters)
        available = self._kinds()
        kinds = [kd for kd in (kinds or available) if kd in available]
        if not kinds:
            return []
        n = max(self.candidates, k)
        found: dict[str, dict[str, Any]] = {}
        rankings: list[list[str]] = []
        index, dense = self._indexes()  # the keyword index also holds every chunk's text and metadata

        def entry(pos: int) -> dict[str, Any]:
            doc_id = index.ids[pos]
            return found.setdefault(doc_id, {"id": doc_id, "metadata": index.metadatas[pos], "text": index.texts[pos]})

        if mode in ("hybrid", "vector"):
            vector = self._embed_query(query)
            counts = self._counts()
            if dense is not None and where is None:
                hits = dense.search(vector, n, kinds)
            else:  # metadata filters (or a very large base): chromadb's filtered HNSW search
                hits = self._vector_hits(kinds, vector, n, where, counts)
            hits.sort(key=lambda h: h[1])
            ranking = []
            for doc_id, distance in hits[:n]:
                pos = index.position.get(doc_id)
                if pos is None:  # written by another process after the index was built
                    continue
                entry(pos)["similarity"] = 1.0 - distance
                ranking.append(doc_id)
            rankings.append(ranking)
        if mode in ("hybrid", "keyword"):
            kind_where = {"kind": {"$in": kinds}}
            full = {"$and": [kind_where, where]} if where else kind_where
            hits_kw = index.search(query, n, full)
            for pos, score in hits_kw:
                entry(pos)["bm25"] = score
            rankings.append([index.ids[pos] for pos, _ in hits_kw])
        fused = reciprocal_rank_fusion(rankings, k=self.rrf_k)[:k]
        return [self._evidence(found[doc_id], score) for doc_id, score in fused]

    def _vector_hits(self, kinds: list[str], vector, n: int, where, counts: dict[str, int]) -> list[tuple[str, float]]:
        """Query each kind's collection; in parallel when several (chromadb's Rust core releases
        the GIL, so per-collection overheads overlap instead of adding up)."""
        kinds = [kd for kd in kinds if counts.get(kd, 0) > 0]
        if len(kinds) <= 1:
            return [h for kd in kinds for h in self.store.query(kd, vector, n, where, counts[kd])]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kb-query")
        futures = [self._pool.submit(self.store.query, kd, vector, n, where, counts[kd]) for kd in kinds]
        return [h for f in futures for h in f.result()]

    def _kinds(self) -> list[str]:
        return list(self._counts())

    def _counts(self) -> dict[str, int]:
        """Chunks per collection, re-read only when the database changed (any process's write)."""
        generation = self.store.generation()
        if self._counts_cache is None or self._counts_cache[0] != generation:
            self._counts_cache = (generation, self.store.counts())
        return self._counts_cache[1]

    def _embed_query(self, query: str):
        vector = self._query_vectors.get(query)
        if vector is None:
            vector = self.embedder.encode([query])[0]
            if self.query_cache_size > 0:
                self._query_vectors[query] = vector
                while len(self._query_vectors) > self.query_cache_size:
                    self._query_vectors.popitem(last=False)
        else:
            self._query_vectors.move_to_end(query)
        return vector

    def _evidence(self, hit: dict[str, Any], score: float) -> Evidence:
        meta = dict(hit["metadata"])
        text = hit.get("text") or ""
        heading = str(meta.get("heading", ""))
        body = text.split("\n", 1)[1] if heading and text.startswith(heading + "\n") else text
        kind = str(meta.get("kind", "note"))
        origin = "runs" if kind == "runs" else "knowledge"
        if "similarity" in hit:
            meta["similarity"] = round(hit["similarity"], 4)
        if "bm25" in hit:
            meta["bm25"] = round(hit["bm25"], 4)
        if "parameters_json" in meta:
            meta["parameters"] = json.loads(meta["parameters_json"])
        # The heading path already starts at the document's H1; fall back to the title without one.
        return Evidence(id=hit["id"], text=body, source=str(meta.get("source", "")), kind=kind,
                        title=heading or str(meta.get("title", "")),
                        score=round(score, 6), origin=origin, metadata=meta)

    # -- inspection --------------------------------------------------------------------------
    def sources(self) -> list[SourceInfo]:
        seen: dict[tuple[str, str], SourceInfo] = {}
        for kind in self.store.kinds():
            for meta in self.store.metadatas(kind):
                key = (kind, str(meta.get("source", "")))
                if key in seen:
                    seen[key].chunks += 1
                    continue
                seen[key] = SourceInfo(source=key[1], kind=kind, title=str(meta.get("title", "")), chunks=1,
                                       source_hash=str(meta.get("source_hash", "")),
                                       origin=str(meta.get("origin", "file")),
                                       metadata={k: v for k, v in meta.items() if k in ("film", "character", "tags")})
        return sorted(seen.values(), key=lambda s: (s.kind, s.source))

    def stats(self) -> KnowledgeStats:
        counts = self.store.counts()
        return KnowledgeStats(persist_dir=str(self.store.persist_dir), embedding_model=str(self.embedder.path),
                              chunks_by_kind=counts, sources=len(self.sources()), total_chunks=sum(counts.values()))


def open_knowledge_base(settings, embedder=None) -> KnowledgeBase:
    """The configured knowledge base under settings.rag.persist_dir (embedder shared if given)."""
    from tools.core.embeddings import get_embedder
    from tools.core.settings.loader import resolve_path

    rag = settings.rag
    return KnowledgeBase(resolve_path(rag.persist_dir), embedder or get_embedder(settings),
                         chunk_chars=rag.chunk_chars, mode=rag.retrieval, candidates=rag.candidates,
                         rrf_k=rag.rrf_k, exact_search_max_chunks=rag.exact_search_max_chunks)
