"""Two processes on one knowledge-base folder (two runs at once): each sees the other's writes, and neither's
reads fail ("Error finding id": chromadb's per-process index went stale before the client was reopened)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rag.store import ChromaStore
from tests.rag.other_process_writer import HashEmbedder, write

ROOT = Path(__file__).resolve().parents[2]


def test_a_write_by_another_process_is_read_without_error(tmp_path):
    folder = tmp_path / "kb folder"
    write(str(folder), 0, 5)
    store = ChromaStore(folder, HashEmbedder())
    assert len(store.all_chunks("notes")[0]) == 5
    subprocess.run([sys.executable, "-m", "tests.rag.other_process_writer", str(folder), "100", "5"], cwd=ROOT,
                   check=True, timeout=120)
    ids, texts, _, vectors = store.all_chunks("notes", with_vectors=True)
    assert len(ids) == 10 and "note 102" in texts and vectors.shape == (10, 8)
    assert len(store.query("notes", HashEmbedder().encode(["note 3"])[0], 3, None)) == 3
    store.upsert("notes", ["mine"], ["my note"], [{"n": 0}], HashEmbedder().encode(["my note"]))
    assert len(store.metadatas("notes")) == 11  # its own write does not need a reopen, and is there
