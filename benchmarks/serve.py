"""The studio's overhead: the same parody request through the HTTP API vs `Agent.run` directly.

A real uvicorn server on 127.0.0.1 in this process (so both sides share the warmed caches); the API
side POSTs the run and follows its server-sent events to the end, as a client would. Rounds
alternate API and direct runs on the sample film with a scripted model, after one warm-up run.
Also prints the event latency: from the worker publishing an event to the client reading it.
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
import yaml  # noqa: E402

from agent import Agent  # noqa: E402
from agent.studio import create_app  # noqa: E402
from tools.core.settings import settings_from_dict  # noqa: E402
from tools.media.sample_film import make_sample_film  # noqa: E402

REQUEST = "give the sea scene a goofy comedy voice-over"
ROUNDS = 3
SCRIPT = {"rules": [
    {"schema_title": "Intent", "response": {"goal": "a comic dub of the sea scene", "task": "parody"}},
    {"schema_title": "parody_params", "response": {"scene": "the sea at sunrise", "tone": "deadpan",
                                                    "target_duration_s": 12.0}},
    {"schema_title": "ScriptDraft", "response": {"title": "Pip and the Very Big Wave", "lines": [
        {"character": "Narrator", "text": "Pip has a plan for the big wave."},
        {"character": "Pip", "text": "Stand back. I am a professional."},
        {"character": "Gull", "text": "He is not a professional."},
        {"character": "Pip", "text": "Splash! Nailed it."}], "effects": []}},
    {"schema_title": "JudgeVerdict", "response": {"relevance": 4, "humour": 4, "character_consistency": 4}},
    {"match": ".", "response": "1. find the scene 2. write the script 3. voice it 4. edit it"}]}


def settings_for(root: Path):
    (root / "samples").mkdir(parents=True, exist_ok=True)
    script = root / "fake.yaml"
    script.write_text(yaml.safe_dump(SCRIPT))
    return settings_from_dict({
        "paths": {"runs_dir": str(root / "runs"), "checkpoint_db": str(root / "runs" / "cp.sqlite"),
                  "cache_dir": str(root / "cache"), "samples_dir": str(root / "samples"),
                  "media_roots": [str(root / "samples")]},
        "llm": {"backend": "fake", "fake": {"script": str(script)}},
        "rag": {"persist_dir": str(root / "chroma"), "auto_ingest": False}, "web": {"enabled": False},
        "quality": {"min_height": 180}, "scheduler": {"lock_dir": str(root / "locks")},
        "studio": {"queue_db": str(root / "studio.sqlite"), "workers": 1}})


def direct(settings, film: Path) -> float:
    start = time.perf_counter()
    result = Agent(settings=settings).run(REQUEST, film=film)
    elapsed = time.perf_counter() - start
    assert result.status == "passed" and result.artifact_paths("video"), result.final_answer
    return elapsed


def through_api(base: str, latencies: list[float]) -> float:
    start = time.perf_counter()
    with httpx.Client(base_url=base, timeout=600) as client:
        run_id = client.post("/runs", json={"request": REQUEST, "film": "the tide keeper.mp4"}).json()["run_id"]
        with client.stream("GET", f"/runs/{run_id}/events") as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    latencies.append(time.time() - event["ts"])
        elapsed = time.perf_counter() - start
        info = client.get(f"/runs/{run_id}").json()
    assert info["status"] == "passed" and info["video"], info
    return elapsed


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    settings = settings_for(root)
    film = make_sample_film(root / "samples" / "the tide keeper.mp4", duration_s=12.0, width=320, height=180)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"

    print(f"warm-up (direct): {direct(settings, film):.2f}s")
    api_s, direct_s, latencies = [], [], []
    for n in range(ROUNDS):
        api_s.append(through_api(base, latencies))
        direct_s.append(direct(settings, film))
        print(f"round {n + 1}: api {api_s[-1]:.2f}s  direct {direct_s[-1]:.2f}s")
    server.should_exit = True
    thread.join(10)

    lat_ms = sorted(x * 1000 for x in latencies)
    p95 = lat_ms[min(len(lat_ms) - 1, int(0.95 * len(lat_ms)))]
    print(f"api median {statistics.median(api_s):.2f}s  direct median {statistics.median(direct_s):.2f}s")
    print(f"event latency over {len(lat_ms)} events: median {statistics.median(lat_ms):.1f} ms, "
          f"p95 {p95:.1f} ms, max {lat_ms[-1]:.1f} ms")
    ratio = statistics.median(api_s) / statistics.median(direct_s)
    print(f"BENCH serve: ratio={ratio:.3f} goal<=1.1 {'PASS' if ratio <= 1.1 else 'FAIL'}")


if __name__ == "__main__":
    main()
