"""Retrieval quality on the labelled set (tests/rag/queries.yaml) over the shipped knowledge."""
from pathlib import Path

import pytest
import yaml

QUERIES = yaml.safe_load((Path(__file__).parent / "queries.yaml").read_text(encoding="utf-8"))
RECALL_FLOOR = 0.85
MRR_FLOOR = 0.65


def _relevant(evidence, labels: list[str]) -> bool:
    for label in labels:
        path, _, section = label.partition("#")
        heading = str(evidence.metadata.get("heading", ""))
        if evidence.source.endswith("knowledge/" + path) and section.lower() in heading.lower():
            return True
    return False


def evaluate(kb, mode: str, k: int = 5) -> tuple[float, float, list[str]]:
    recall_hits, reciprocal, misses = 0, 0.0, []
    for item in QUERIES:
        results = kb.search(item["query"], k=k, mode=mode)
        rank = next((i for i, ev in enumerate(results, start=1) if _relevant(ev, item["relevant"])), None)
        if rank is None:
            misses.append(item["query"])
        else:
            recall_hits += 1
            reciprocal += 1.0 / rank
    return recall_hits / len(QUERIES), reciprocal / len(QUERIES), misses


def test_query_set_is_big_enough_and_labels_exist():
    from tests.rag.conftest import KNOWLEDGE_DIR

    assert len(QUERIES) >= 30
    for item in QUERIES:
        for label in item["relevant"]:
            assert (KNOWLEDGE_DIR / label.partition("#")[0]).is_file(), label


@pytest.fixture(scope="module")
def scores(shipped_kb):
    return {mode: evaluate(shipped_kb, mode) for mode in ("hybrid", "vector", "keyword")}


def test_hybrid_quality_above_floor_and_beats_vector_only(scores, capsys):
    with capsys.disabled():
        print()
        for mode, (recall, mrr, misses) in scores.items():
            print(f"[rag quality] {mode:7s} recall@5={recall:.3f} MRR={mrr:.3f} queries={len(QUERIES)} "
                  f"misses={misses}")
    recall, mrr, _ = scores["hybrid"]
    assert recall >= RECALL_FLOOR and mrr >= MRR_FLOOR
    v_recall, v_mrr, _ = scores["vector"]
    assert (recall, mrr) >= (v_recall, v_mrr) and (recall > v_recall or mrr > v_mrr)
