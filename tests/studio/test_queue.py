"""Runs execute under the scheduler's rules: GPU-heavy runs one at a time, others side by side."""
from __future__ import annotations

import json

from fastapi.testclient import TestClient

from agent.studio import create_app
from agent.studio.executor import gpu_resources
from tests.studio.conftest import sse_events, wait_for


def _paint_twice(settings, tmp_path, monkeypatch):
    log = tmp_path / "gpu.jsonl"
    monkeypatch.setenv("STUDIO_TEST_GPU_LOG", str(log))
    monkeypatch.setenv("STUDIO_TEST_GPU_S", "1.5")
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c:
        ids = [c.post("/runs", json={"request": "paint a picture on the gpu"}).json()["run_id"] for _ in range(2)]
        for run_id in ids:
            assert wait_for(c, run_id, ("passed", "failed", "error"))["status"] == "passed"
        events = {run_id: sse_events(c.get(f"/runs/{run_id}/events")) for run_id in ids}
    spans = sorted((json.loads(line) for line in log.read_text().splitlines()), key=lambda s: s["start"])
    return events, spans


def test_gpu_heavy_runs_take_turns_on_a_gpu_profile(studio_settings, tmp_path, monkeypatch):
    settings = studio_settings(scheduler={"profile": "rtx5080-16gb", "lock_dir": str(tmp_path / "locks")},
                               studio={"workers": 2, "queue_db": str(tmp_path / "q.sqlite")})
    assert {"llm", "sdxl"} <= gpu_resources(settings)
    events, spans = _paint_twice(settings, tmp_path, monkeypatch)
    assert len(spans) == 2 and spans[0]["end"] <= spans[1]["start"]  # never both painting at once
    first_plan = {rid: next(e["ts"] for e in evs if e.get("node") == "plan") for rid, evs in events.items()}
    waited = {rid for rid, evs in events.items() if any(e.get("status") == "waiting_for_gpu" for e in evs)}
    if max(first_plan.values()) < spans[0]["end"]:  # the second reached its plan while the first painted
        assert len(waited) == 1


def test_nothing_is_gpu_heavy_on_the_cpu_profile(studio_settings, tmp_path, monkeypatch):
    settings = studio_settings(scheduler={"profile": "cpu-only"}, studio={"workers": 2})
    assert gpu_resources(settings) == set()
    events, spans = _paint_twice(settings, tmp_path, monkeypatch)
    assert len(spans) == 2
    assert not any(e.get("status") == "waiting_for_gpu" for evs in events.values() for e in evs)
