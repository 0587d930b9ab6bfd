"""Runs execute under the scheduler's rules: GPU-heavy runs one at a time, others side by side."""
from __future__ import annotations

import json
import time

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


def test_a_running_run_is_cancelled_with_its_children_and_resumes(client):
    """Cancel stops the run's program at once (not at the end of its 30 s), the run ends `cancelled`
    with the step unfinished, and resume runs that step again to the end."""
    import psutil

    from tools.core.child_processes import scope_children

    run_id = client.post("/runs", json={"request": "spin the lengthy reel through its outside program"}).json()["run_id"]
    deadline = time.time() + 60
    while not (pids := scope_children(run_id)):
        assert time.time() < deadline, client.get(f"/runs/{run_id}").json()
        time.sleep(0.05)
    started = time.time()
    assert client.post(f"/runs/{run_id}/cancel").status_code == 202
    info = wait_for(client, run_id, ("cancelled", "error", "passed"), timeout=20)
    assert info["status"] == "cancelled" and time.time() - started < 10
    assert not scope_children(run_id)
    assert all(not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE for pid in pids)
    assert client.post(f"/runs/{run_id}/cancel").status_code == 409  # nothing left to cancel
    assert client.post(f"/runs/{run_id}/resume").status_code == 202
    done = wait_for(client, run_id, ("passed", "failed", "error", "cancelled"))
    assert done["status"] == "passed", done
    assert done["result"]["final_answer"].startswith("Reel: reel rendered")


def test_a_queued_run_is_cancelled_before_it_starts(studio_settings):
    app = create_app(studio_settings(studio={"workers": 1}))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        first = c.post("/runs", json={"request": "spin the lengthy reel through its outside program"}).json()["run_id"]
        second = c.post("/runs", json={"request": "jot a quick note on tides"}).json()["run_id"]
        assert c.post(f"/runs/{second}/cancel").json()["status"] == "cancelled"
        assert c.post(f"/runs/{first}/cancel").status_code == 202
        wait_for(c, first, ("cancelled",), timeout=30)
        assert c.get(f"/runs/{second}").json()["started"] is None  # it never ran
        assert c.post(f"/runs/{second}/resume").status_code == 202  # a run that never started just runs
        assert wait_for(c, second, ("passed", "error"))["status"] == "passed"
