"""Run as a separate process by test_two_processes: writes chunks into a knowledge-base folder."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from rag.store import ChromaStore


class HashEmbedder:
    """A deterministic stand-in for the MiniLM embedder (same interface: `path`, `encode`)."""

    path = Path("hash-embedder")

    def encode(self, texts, batch_size: int = 32):
        return np.stack([np.random.default_rng(abs(hash(t)) % 2**32).random(8).astype(np.float32) for t in texts])


def write(folder: str, first: int, count: int) -> None:
    ids = [f"chunk-{i}" for i in range(first, first + count)]
    texts = [f"note {i}" for i in range(first, first + count)]
    ChromaStore(Path(folder), HashEmbedder()).upsert("notes", ids, texts, [{"n": i} for i in range(count)],
                                                      HashEmbedder().encode(texts))


if __name__ == "__main__":
    write(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
