"""The exact in-memory vector path and chromadb's HNSW path must agree."""
import numpy as np

from rag.dense import DenseIndex


def test_dense_index_orders_by_cosine_and_respects_kinds():
    vectors = np.eye(4, dtype=np.float32)
    index = DenseIndex(["a", "b", "c", "d"], vectors, ["x", "x", "y", "y"])
    query = np.array([0.1, 0.9, 0.5, 0.0], dtype=np.float32)
    assert [i for i, _ in index.search(query, 3, ["x", "y"])] == ["b", "c", "a"]
    assert [i for i, _ in index.search(query, 5, ["y"])] == ["c", "d"]
    assert index.search(query, 3, ["missing"]) == []
    assert abs(index.search(query, 1, ["x"])[0][1] - (1 - 0.9)) < 1e-6


def test_exact_and_chroma_vector_search_agree(make_kb, tmp_path):
    docs = [{"text": t, "source": f"s{i}"} for i, t in enumerate([
        "A seagull flies over the sunset beach.", "Captain Brine frowns on the night pier.",
        "Pip jumps out of the turquoise waves.", "Leaves fall on the green forest path.",
        "The title card glows gold on a starry background.", "Boats bob in the dark harbour."])]
    exact = make_kb(tmp_path / "db")
    exact.add_documents("scenes", docs[:3])
    exact.add_documents("styles", docs[3:])
    hnsw = make_kb(tmp_path / "db", exact_search_max_chunks=0)
    for query in ["bird at dusk", "grumpy fisherman", "waves", "harbour at night"]:
        a = exact.search(query, k=4, mode="vector")
        b = hnsw.search(query, k=4, mode="vector")
        assert [e.id for e in a] == [e.id for e in b]
        assert np.allclose([e.metadata["similarity"] for e in a], [e.metadata["similarity"] for e in b], atol=1e-4)
    assert exact.search("bird", k=2, filters={"kind": "styles"}, mode="vector")[0].kind == "styles"
