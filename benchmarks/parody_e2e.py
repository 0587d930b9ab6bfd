"""Parody end to end on the 40 s sample film with the embedded local model, plus scene-detection memory.

Goal: a 30 s parody in under 3 minutes on 2 CPU cores (ratio = seconds / 180, goal <= 1.0).
Per-stage figures come from the run trace (node.end and tool.call events). Memory: peak RSS of
detect_scenes on a 2-minute and a 20-minute generated film, each in a fresh child process, to show
that scene detection streams (peak memory does not grow with the film's length).

    .venv/bin/python benchmarks/parody_e2e.py [--skip-memory]
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_S = 180.0
MEMORY_CHILD = """
import resource, sys, time
from pathlib import Path
from tools.core.context import make_context
from tools.core.settings import settings_from_dict
from tools.video.scenes import scene_list
root = Path(sys.argv[2])
s = settings_from_dict({"paths": {"runs_dir": str(root / "runs"), "cache_dir": str(root / "cache"),
                                  "media_roots": [str(Path(sys.argv[1]).parent)]}})
t = time.perf_counter()
scenes = scene_list(make_context(s), Path(sys.argv[1]))
print(len(scenes.scenes), round(time.perf_counter() - t, 2), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def parody_run(tmp: Path) -> tuple[float, dict[str, float], dict]:
    from agent import Agent
    from tests.conftest import isolated_settings_dict
    from tools.core.settings import settings_from_dict
    from tools.media.sample_film import make_sample_film

    data = isolated_settings_dict(tmp)
    data["llm"] = {"backend": "local"}
    settings = settings_from_dict(data)
    film = make_sample_film(tmp / "samples" / "the_tide_keeper.mp4", duration_s=40.0)
    start = time.perf_counter()
    result = Agent(settings=settings).run("make a funny parody of the ocean scene", film=film)
    total = time.perf_counter() - start
    stages: dict[str, float] = defaultdict(float)
    for line in Path(result.trace_path).read_text().splitlines():
        e = json.loads(line)
        if e["kind"] == "node.end" and e.get("node") != "execute":
            stages[f"node {e['node']}"] += float(e.get("seconds") or 0)
        elif e["kind"] == "tool.call":
            stages[f"tool {e['tool']}"] += float(e.get("seconds") or 0)
    render = result.step_results.get("render", {}).get("result") or {}
    info = {"status": result.status, "iterations": result.iterations, "video": render.get("video"),
            "duration": render.get("duration"), "script_path": (result.step_results.get("script", {}).get("result") or {}).get("path"),
            "score": result.quality[-1]["combined"] if result.quality else None}
    return total, dict(stages), info


def memory(tmp: Path) -> dict[int, tuple[int, float, int]]:
    from tools.media.sample_film import make_sample_film

    out = {}
    for seconds in (120, 1200):
        film = make_sample_film(tmp / f"film_{seconds}.mp4", duration_s=min(seconds, 600), width=320, height=180)
        if seconds > 600:  # make_sample_film caps at 600 s: join copies for the 20-minute film
            listing = tmp / "concat.txt"
            listing.write_text("".join(f"file '{film}'\n" for _ in range(seconds // 600)))
            joined = tmp / f"film_{seconds}_joined.mp4"
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
                            "-c", "copy", str(joined)], check=True)
            film = joined
        proc = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(film), str(tmp / f"m{seconds}")], cwd=ROOT,
                              capture_output=True, text=True, check=True)
        n, secs, rss = proc.stdout.strip().splitlines()[-1].split()
        out[seconds] = (int(n), float(secs), int(rss))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench_parody_") as d:
        tmp = Path(d)
        (tmp / "samples").mkdir()
        total, stages, info = parody_run(tmp)
        print(f"parody end to end: {total:.1f}s  {json.dumps(info)}")
        for name, secs in sorted(stages.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<32} {secs:7.2f}s")
        if "--skip-memory" not in sys.argv:
            mem = memory(tmp)
            for seconds, (n, secs, rss) in mem.items():
                print(f"detect_scenes on a {seconds // 60}-minute film: {n} scenes in {secs:.1f}s, peak RSS {rss / 1024:.0f} MiB")
            small, big = mem[120][2], mem[1200][2]
            print(f"peak RSS ratio 20-min / 2-min: {big / small:.2f} (streaming: close to 1)")
    ratio = total / GOAL_S
    ok = ratio <= 1.0 and info["video"] is not None
    print(f"BENCH parody_e2e: ratio={ratio:.2f} goal<=1.0 {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
