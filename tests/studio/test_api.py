"""The HTTP API with FastAPI's TestClient: runs, live events, the review pause, batches, restarts."""
from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from agent.studio import create_app
from tests.studio.conftest import sse_events, wait_for

NOTE = "jot down a note about lighthouses"
SCRIPT = "draft a short script about lighthouses for me to check"


def test_a_run_streams_its_events_and_ends_with_its_result(client):
    created = client.post("/runs", json={"request": NOTE})
    assert created.status_code == 202 and created.json()["status"] == "queued"
    run_id = created.json()["run_id"]
    stream = client.get(f"/runs/{run_id}/events")
    assert stream.headers["content-type"].startswith("text/event-stream")
    events = sse_events(stream)
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})  # ordered, no repeats
    nodes = [e["node"] for e in events if e["type"] == "node"]
    assert nodes[:3] == ["understand", "retrieve", "plan"] and nodes[-1] == "finish"
    plan = next(e["plan"] for e in events if e.get("plan"))
    assert [s["id"] for s in plan["steps"]] == ["note", "score"]
    assert events[-1] == {**events[-1], "type": "status", "status": "passed"}
    result = next(e["result"] for e in events if e["type"] == "result")
    assert result["final_answer"].startswith("Noted: a note about lighthouses")

    info = client.get(f"/runs/{run_id}").json()
    assert info["status"] == "passed" and info["score"] == 1.0 and info["seconds"] > 0
    note = client.get(f"/runs/{run_id}/files/note.txt")
    assert note.text == "a note about lighthouses"
    report = client.get(info["links"]["report"])
    assert report.status_code == 200 and NOTE in report.text
    listed = client.get("/runs").json()
    assert listed[0]["run_id"] == run_id and listed[0]["request"] == NOTE
    # Reconnecting with Last-Event-ID replays only what came after it.
    later = sse_events(client.get(f"/runs/{run_id}/events", headers={"Last-Event-ID": str(events[-3]["seq"])}))
    assert [e["seq"] for e in later] == [e["seq"] for e in events[-2:]]


def test_review_pause_takes_an_edit_and_refuses_what_does_not_fit(client):
    run_id = client.post("/runs", json={"request": SCRIPT, "review": True}).json()["run_id"]
    events = sse_events(client.get(f"/runs/{run_id}/events"))
    assert events[-1]["status"] == "awaiting_review"
    pending = client.get(f"/runs/{run_id}").json()["pending_review"]
    assert pending["kind"] == "script" and pending["lines"][1]["character"] == "Keeper"
    assert client.get(f"/runs/{run_id}/files/note.txt").status_code == 404  # the step after the review waits

    assert client.post(f"/runs/{run_id}/resume").status_code == 409  # a review is not a crash
    wrong = client.post(f"/runs/{run_id}/review", json={"action": "edit", "scene": 2})
    assert wrong.status_code == 422 and "script" in wrong.json()["detail"]
    too_long = client.post(f"/runs/{run_id}/review", json={"action": "edit", "lines": [
        {"character": "Keeper", "text": "and then I counted " + "ever more waves " * 4}] * 6})
    assert too_long.status_code == 422 and "footage" in too_long.json()["detail"]
    assert client.post(f"/runs/{run_id}/review", json={"action": "maybe"}).status_code == 422

    edit = {"action": "edit", "title": "Counting", "lines": [{"character": "Keeper", "text": "I counted every one."}]}
    assert client.post(f"/runs/{run_id}/review", json=edit).status_code == 202
    info = wait_for(client, run_id, ("passed", "failed", "error"))
    assert info["status"] == "passed", info
    assert client.get(f"/runs/{run_id}/files/note.txt").text == "Keeper: I counted every one."
    assert client.post(f"/runs/{run_id}/review", json={"action": "approve"}).status_code == 409


def test_rejecting_the_script_stops_the_run_before_the_next_step(client):
    run_id = client.post("/runs", json={"request": SCRIPT, "review": True}).json()["run_id"]
    wait_for(client, run_id, ("awaiting_review",))
    client.post(f"/runs/{run_id}/review", json={"action": "reject", "note": "not funny"})
    info = wait_for(client, run_id, ("rejected", "passed", "error"))
    assert info["status"] == "rejected" and "not funny" in info["result"]["final_answer"]
    assert client.get(f"/runs/{run_id}/files/note.txt").status_code == 404


def test_a_batch_queues_every_line_or_none(client):
    bad = "\n".join([json.dumps({"request": NOTE}), "{not json", json.dumps({"request": NOTE, "colour": "red"}), ""])
    answer = client.post("/batches", content=bad, headers={"content-type": "application/x-ndjson"})
    assert answer.status_code == 422
    assert [p["line"] for p in answer.json()["detail"]] == [2, 3]
    assert client.get("/runs").json() == []  # nothing was queued

    good = "\n".join(json.dumps({"request": f"jot down a note about {t}"}) for t in ("tides", "gulls"))
    batch = client.post("/batches", files={"file": ("two.jsonl", good.encode(), "application/x-ndjson")})
    assert batch.status_code == 202
    ids = [r["run_id"] for r in batch.json()["runs"]]
    assert len(ids) == 2 and all(wait_for(client, i, ("passed", "error"))["status"] == "passed" for i in ids)
    assert {client.get(f"/runs/{i}").json()["batch_id"] for i in ids} == {batch.json()["batch_id"]}


def test_the_queue_survives_a_restart(studio_settings):
    settings = studio_settings()
    stopped = TestClient(create_app(settings), base_url="http://127.0.0.1")  # no lifespan: no workers
    queued = stopped.post("/runs", json={"request": NOTE}).json()["run_id"]
    assert stopped.get(f"/runs/{queued}").json()["status"] == "queued"

    with TestClient(create_app(settings), base_url="http://127.0.0.1") as first:
        done = wait_for(first, queued, ("passed", "error"))
        assert done["status"] == "passed"
    from agent.studio.jobs import JobStore
    from tools.core.settings.loader import resolve_path

    store = JobStore(resolve_path(settings.studio.queue_db))
    store.update(queued, status="running")  # as if the server had died during the run
    store.close()
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as second:
        events = sse_events(second.get(f"/runs/{queued}/events"))
        assert "the server restarted" in json.dumps(events)
        assert wait_for(second, queued, ("passed", "error"))["status"] == "passed"
        assert second.get(f"/runs/{queued}").json()["kind"] == "resume"
