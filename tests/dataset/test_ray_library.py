"""A film library on Ray: the same decisions as the local executor, failures kept per film, work spread
over the nodes of a cluster, and GPU actors that still ask the project's scheduler for the card."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("ray", reason="the Ray executor needs the ray extra: pip install -e '.[ray]'")

from tests.dataset.conftest import make_settings
from tools.core.context import make_context
from tools.core.scheduler import InProcessHandle, create_scheduler
from tools.core.trace import Trace, read_trace
from tools.dataset.library import decisions, discover_films, plan_library
from tools.dataset.library_runner import run_library
from tools.dataset.ray_library import init_args

ROOT = Path(__file__).resolve().parents[2]


def run(tmp: Path, library: dict, executor: str, until: str = "export", **dataset):
    """(report, progress events, settings) of a library run with datasets under `tmp`."""
    settings = make_settings(tmp, executor="thread", **dataset)
    jobs = plan_library(discover_films(library["folder"]), library["refs"], None, until)
    events: list[tuple[str, dict]] = []
    report = run_library(settings, jobs, make_context(settings), executor=executor,
                         sink=lambda name, event: events.append((name, event)))
    return report, events, settings


def test_ray_makes_the_same_decisions_as_the_local_executor_and_resumes(tmp_path, film_library, ray_cluster):
    local, _, local_settings = run(tmp_path / "local", film_library, "local")
    remote, events, ray_settings = run(tmp_path / "ray", film_library, "ray")
    for report in (local, remote):
        by_name = {f.name: f for f in report.films}
        broken = by_name.pop("broken_copy")
        assert not broken.ok and broken.failed_stage == "extract" and "broken copy.mp4" in broken.error
        assert len(by_name) == 3 and all(f.ok and f.frames > 100 for f in by_name.values())  # the others went on
    good = [f.name for f in local.films if f.ok]
    for name in good:
        assert decisions(local_settings, name) == decisions(ray_settings, name), name
    assert len({json.dumps(decisions(ray_settings, n)["counts"]) for n in good}) == 3  # three distinct films
    for report in (local, remote):  # identity models were built for the first film only, then reused
        loads = [s.model_loads for f in report.films for s in f.stages if s.stage == "characters"]
        assert len(loads) == 3 and loads[0] >= 1 and len(set(loads)) == 1, loads
    stages = [s for f in remote.films for s in f.stages]
    assert {s.worker for s in stages if s.stage == "characters"} == {"actor:identity"}
    assert {s.worker for s in stages if s.stage == "caption"} == {"actor:captioner"}
    assert {s.worker for s in stages if s.stage in ("extract", "filter", "export")} == {"task"}
    assert {name for name, _ in events} >= set(good)  # per-film progress came back from the workers
    assert any(e["description"].startswith("characters") for _, e in events)

    again, _, _ = run(tmp_path / "ray", film_library, "ray")  # a re-run redoes nothing finished
    for film in (f for f in again.films if f.ok):
        extract = next(s for s in film.stages if s.stage == "extract")
        assert extract.redone == 0 and extract.reused > 0, film.name


def _gpu_profile(tmp: Path) -> Path:
    """A 16 GB card where the identity model and SDXL do not fit together."""
    folder = tmp / "hardware"
    folder.mkdir()
    profile = {"name": "card16", "vram_budget_gb": 16.0, "headroom_gb": 1.0,
               "resources": {"llm": {"vram_gb": 11.0}, "sdxl": {"vram_gb": 11.5}, "identity": {"vram_gb": 6.0}},
               "exclusive_groups": [["llm", "sdxl"]]}
    (folder / "card16.yaml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    return folder


def test_a_cluster_spreads_the_films_and_gpu_actors_still_ask_the_scheduler(tmp_path, film_library, ray_cluster):
    gpu_node = ray_cluster.add_node(num_cpus=1, num_gpus=1, object_store_memory=80 << 20)
    ray_cluster.wait_for_nodes()
    sched = None
    try:
        settings = make_settings(tmp_path, executor="thread", library={"identity_gpus": 1.0})
        scheduler = {"profile": "card16", "hardware_dir": str(_gpu_profile(tmp_path)), "cross_process": "on",
                     "lock_dir": str(tmp_path / "locks"), "free_timeout_s": 20.0, "free_poll_interval_s": 0.05}
        settings = settings.model_copy(update={"scheduler": settings.scheduler.model_copy(update=scheduler)})
        # Another process on this machine (here: the test) keeps SDXL resident on the card, idle.
        sched = create_scheduler(settings, Trace(tmp_path / "sdxl-holder.jsonl"))
        sdxl = InProcessHandle(loader=lambda: bytearray(1 << 20), name="sdxl")
        sched.register("sdxl", sdxl)
        with sched.use("sdxl"):
            assert sdxl.is_loaded()
        jobs = plan_library([f for f in discover_films(film_library["folder"]) if "broken" not in f.name], film_library["refs"], None, "characters")
        report = run_library(settings, jobs, make_context(settings), executor="ray")
        assert all(f.ok for f in report.films), [f.error for f in report.films]
        assert report.nodes == 2
        stages = [s for f in report.films for s in f.stages]
        assert len({s.node for s in stages}) == 2  # work ran on both nodes
        # Ray placed the identity actor on the only node with a GPU; the scheduler there made room.
        assert {s.node for s in stages if s.stage == "characters"} == {gpu_node.node_id}
        assert not sdxl.is_loaded()
        evicted = [e for e in read_trace(tmp_path / "sdxl-holder.jsonl") if e["kind"] == "scheduler.evicted_for_other_process"]
        assert [e.get("resource") for e in evicted] == ["sdxl"]
    finally:
        if sched is not None:
            sched.close()
        ray_cluster.remove_node(gpu_node)


def test_cli_runs_a_library_on_the_cluster_named_by_ray_address(tmp_path, film_library, ray_cluster):
    """What a user types on a cluster node: RAY_ADDRESS set by the admin, a glob of films, `--executor ray`."""
    sets = [f"paths.datasets_dir={tmp_path / 'datasets'}", f"paths.runs_dir={tmp_path / 'runs'}",
            "dataset.extract_mode=scenes", "video.detector=content"]
    args = [sys.executable, "-m", "agent.cli.main", "dataset", "run", "--films", str(film_library["folder"] / "*pisode 1*"),
            "--refs", str(film_library["refs"]), "--until", "caption", "--executor", "ray"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ADDRESS": ray_cluster.address, "COLUMNS": "200"}
    proc = subprocess.run(args + [x for s in sets for x in ("--set", s)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1/1 films done" in proc.stdout and "(ray, Ray start" in proc.stdout
    meta = json.loads((tmp_path / "datasets" / "Episode_1_the_lake" / "metadata.json").read_text(encoding="utf-8"))
    assert set(meta["stages"]) == {"extract", "filter", "characters", "caption"}
    run_dir = next((tmp_path / "runs").iterdir())
    assert (run_dir / "report.html").is_file()
    kinds = [e["kind"] for e in read_trace(run_dir / "trace.jsonl")]
    assert kinds.count("dataset.library_stage") == 4 and kinds[-1] == "library.done"


def test_ray_address_comes_from_the_flag_then_ray_address_then_a_local_instance(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert init_args(None, 2) == {"address": "local", "num_cpus": 2, "include_dashboard": False}
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    assert init_args(None, 2) == {"address": "10.0.0.5:6379"}
    assert init_args("auto", None) == {"address": "auto"}
    assert init_args("local", 1)["address"] == "local"
