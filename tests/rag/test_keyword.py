import numpy as np
from rank_bm25 import BM25Okapi

from rag.keyword import KeywordIndex, matches, reciprocal_rank_fusion, tokenize

TEXTS = [
    "Luca Paguro is a curious sea monster who herds goatfish",
    "Alberto Scorfano shouts Silenzio Bruno at his fear",
    "Giulia Marcovaldo rides her bicycle in the Portorosso Cup",
    "Underwater caustics and god rays light the sea floor",
    "Deadpan narration describes absurd events calmly",
]


def test_postings_scores_equal_rank_bm25():
    meta = [{"kind": "x"} for _ in TEXTS]
    index = KeywordIndex([str(i) for i in range(len(TEXTS))], TEXTS, meta)
    reference = BM25Okapi([tokenize(t) for t in TEXTS])
    for query in ["sea monster", "Silenzio Bruno fear", "the Portorosso bicycle cup", "nothing matches zzz"]:
        np.testing.assert_allclose(index.scores(query), reference.get_scores(tokenize(query)), rtol=1e-9)


def test_search_ranks_and_filters():
    meta = [{"kind": "characters"}, {"kind": "characters"}, {"kind": "characters"}, {"kind": "styles"},
            {"kind": "comedy"}]
    index = KeywordIndex([f"d{i}" for i in range(5)], TEXTS, meta)
    top = index.search("sea floor caustics", k=3)
    assert index.ids[top[0][0]] == "d3"
    only_chars = index.search("sea", k=5, where={"kind": {"$in": ["characters"]}})
    assert [index.ids[p] for p, _ in only_chars] == ["d0"]
    assert index.search("zzz unknown", k=3) == []


def test_tokenize_folds_case_accents_and_stopwords():
    assert tokenize("Il Caffè, THE café!") == ["il", "caffe", "cafe"]


def test_rrf_rewards_agreement():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "a"]], k=60)
    assert fused[0][0] == "b"
    assert abs(dict(fused)["b"] - (1 / 62 + 1 / 61)) < 1e-12
    assert [d for d, _ in reciprocal_rank_fusion([["x"], []])] == ["x"]


def test_matches_where_clauses():
    meta = {"kind": "scenes", "film:luca": True, "source": "a.md"}
    assert matches(meta, {"$and": [{"kind": {"$in": ["scenes"]}}, {"film:luca": True}]})
    assert not matches(meta, {"$and": [{"kind": {"$in": ["styles"]}}, {"film:luca": True}]})
    assert matches(meta, {"$or": [{"film:moana": True}, {"film:luca": True}]})
    assert not matches(meta, {"film:moana": True})
