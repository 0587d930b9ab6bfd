import pytest

from rag.runs import ingest_run, similar_runs
from tools.core.types import ToolError


def _run(run_id, request, quality, status="passed", **params):
    return {"run_id": run_id, "request": request, "workflow": "parody", "quality": quality, "status": status,
            "plan": {"steps": [{"id": "find", "tool": "find_scene"}, {"id": "voice", "tool": "synthesize_speech"}]},
            "parameters": params, "artifacts": [{"path": "final.mp4", "kind": "video"}], "film": "Luca"}


def test_similar_runs_return_parameters_and_respect_quality(make_kb):
    kb = make_kb()
    assert ingest_run(kb, _run("r1", "funny parody of Luca's ocean scene with a deadpan narrator", 0.86,
                               voice="en-us", style="deadpan")) > 0
    ingest_run(kb, _run("r2", "make a parody of the ocean scene in Luca", 0.41, voice="en-gb"))
    ingest_run(kb, _run("r3", "train a LoRA of Alberto from the film", 0.9, steps=800))

    hits = similar_runs(kb, "parody of the Luca ocean scene", k=2)
    assert {h.metadata["run_id"] for h in hits} == {"r1", "r2"}
    assert all(h.origin == "runs" and h.kind == "runs" for h in hits)
    good = similar_runs(kb, "parody of the Luca ocean scene", k=3, min_quality=0.7)
    assert good[0].metadata["run_id"] == "r1"
    assert good[0].metadata["parameters"] == {"style": "deadpan", "voice": "en-us"}
    assert good[0].metadata["quality"] == pytest.approx(0.86)
    assert "find_scene" in good[0].text and "final.mp4" in good[0].text
    assert similar_runs(kb, "parody", k=3, workflow="movie_to_lora") == []
    # runs stay out of a filtered knowledge search but are found by kind
    assert kb.search("parody ocean", filters={"kind": "characters"}) == []


def test_only_passed_runs_are_recorded_and_each_only_once(make_kb):
    kb = make_kb()
    assert ingest_run(kb, _run("bad", "parody of the ocean scene", 0.4, status="failed", voice="z")) == 0
    assert ingest_run(kb, _run("unscored", "parody of the ocean scene", None, status="done", voice="z")) == 0
    assert ingest_run(kb, _run("r1", "parody of the ocean scene", 0.8, voice="a")) > 0
    assert ingest_run(kb, _run("r1", "parody of the ocean scene", 0.9, voice="b")) == 0  # written once
    hits = similar_runs(kb, "ocean parody", k=5)
    assert [h.metadata["run_id"] for h in hits] == ["r1"] and hits[0].metadata["parameters"] == {"voice": "a"}
    assert all(h.metadata["run_id"] != "bad" for h in kb.search("parody of the ocean scene", k=10))


def test_failed_runs_already_in_a_store_are_not_reused(make_kb):
    kb = make_kb()  # a store written before only passed runs were kept
    kb.add_documents("runs", [{"text": "Request: parody of the ocean scene\nQuality: 0.4 (failed)",
                               "source": "run:old", "metadata": {"run_id": "old", "status": "failed",
                                                                 "quality": 0.4, "workflow": "parody"}}])
    assert similar_runs(kb, "parody of the ocean scene", k=3) == []


def test_invalid_run_record_is_a_clear_error(make_kb):
    with pytest.raises(ToolError, match="Run record is invalid"):
        ingest_run(make_kb(), {"request": "no id"})
