"""Robustness: the damaged-media corpus and a set of bad arguments through the real command line.

Each input is one `animstudio` command in a fresh process (the corpus through `tools call`
probe_media / detect_scenes / find_scene / extract_clip, `dataset run --until filter` and a parody
`run` with the scripted model; the bad arguments through `run`, `report`, `config`, `tools call`,
`kb` and `dataset`). An input is handled cleanly when:
- the exit code is the promised one (docs/reliability.md: 0 result, 1 finished failed, 2 bad input)
  and agrees with the campaign table;
- an error is one `error:` line on stderr, with no traceback;
- every child the command started (ffmpeg, ffprobe, espeak-ng) ended with it and peaked under 2 GB
  (peaks come from the child runner's own log, ANIMSTUDIO_CHILD_LOG);
- nothing appeared outside the data folders.
Anchor, on the same truncated film in the same run: the render the agent used to ask for (clips
past the decodable end, the container's length trusted), bounded here at 2 GB so that it cannot
hurt the machine — it runs into that bound, while every command above stays far below it.

    .venv/bin/python benchmarks/robustness.py [--quick]   (--quick: skip the parody runs)
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEAK_GOAL_MB = 2048
ANCHOR_BOUND_MB = 2048
COMMAND_TIMEOUT_S = 600  # the slowest command (a parody run) takes ~90 s on a loaded machine
CHILD_PROGRAMS = {"ffmpeg", "ffprobe", "espeak-ng", "piper"}


def bad_arguments(good: Path, taken_run: str) -> list[tuple[str, list[str], dict, int]]:
    """(name, argv, extra env, expected exit code)."""
    return [
        ("empty request", ["run", "   "], {}, 2),
        ("missing film", ["run", "a spoof please", "--film", "nope.mp4"], {}, 2),
        ("run id climbing out", ["run", "a spoof please", "--run-id", "../../x"], {}, 2),
        ("run id already taken", ["run", "a spoof please", "--run-id", taken_run], {}, 2),
        ("resume outside runs/", ["run", "--resume", "../../x"], {}, 2),
        ("report outside runs/", ["report", "../../../x", "--no-open"], {}, 2),
        ("broken list override", ["config", "show", "--set", "paths.media_roots=[/etc"], {}, 2),
        ("broken env section", ["config", "show"], {"ANIMSTUDIO_AGENT": "{"}, 2),
        ("unknown setting", ["config", "show", "--set", "agnet.strategy=cot"], {}, 2),
        ("args not JSON", ["tools", "call", "probe_media", "--args", "{nope"], {}, 2),
        ("unknown tool", ["tools", "call", "probe_everything", "--args", "{}"], {}, 2),
        # a path a model writes into an edit is sandboxed: the render refuses it before any ffmpeg runs
        ("clip source outside the workspace", ["tools", "call", "render_edit", "--args", json.dumps(
            {"edl": {"clips": [{"source": "/etc/passwd", "start": 0, "end": 1}]}})], {}, 1),
        # a file the user names on the command line is theirs to name; it is judged as media
        ("a named file that is not media", ["tools", "call", "probe_media", "--args", '{"path": "/etc/passwd"}'], {}, 1),
        ("NaN clip time", ["tools", "call", "extract_clip", "--args",
                           json.dumps({"film": str(good), "start": 0, "end": "NaN"})], {}, 2),
        ("newline in a subtitle colour", ["tools", "call", "render_edit", "--args", json.dumps(
            {"edl": {"clips": [{"source": str(good), "start": 0, "end": 1}],
                     "subtitles": [{"text": "hi", "start": 0, "end": 1}],
                     "subtitle_style": {"color": "&H00FFFFFF\nDialogue: 0,0:00:00.00,0:00:09.00,Default,,0,0,0,,X"}}})],
         {}, 2),
        ("shell metacharacters in a name", ["tools", "call", "make_sound_effect", "--args",
                                            json.dumps({"name": "boing; touch /tmp/pwned"})], {}, 1),
        ("kb search mode", ["kb", "search", "x", "--mode", "telepathy"], {}, 2),
        ("unknown dataset", ["dataset", "status", "no-such-set"], {}, 2),
        ("missing refs folder", ["dataset", "run", "--name", "refs-check", "--film", str(good), "--refs", "nope/"], {}, 2),
    ]


def corpus_commands(corpus: dict[str, Path], table: dict[str, dict[str, str]], quick: bool
                    ) -> list[tuple[str, list[str], dict, set[int]]]:
    out = []
    for name, film in corpus.items():
        row = table[name]
        for column, tool, args in (("probe", "probe_media", {"path": str(film)}),
                                   ("detect_scenes", "detect_scenes", {"film": str(film)}),
                                   ("find_scene", "find_scene", {"film": str(film), "query": "a bright test card"}),
                                   ("extract_clip", "extract_clip", {"film": str(film), "start": 0.0, "end": 1.0})):
            ok = row[column].startswith("ok")
            out.append((f"{name}: {tool}", ["tools", "call", tool, "--args", json.dumps(args)], {}, {0} if ok else {1, 2}))
        ok = row["dataset"].startswith("ok")
        out.append((f"{name}: dataset", ["dataset", "run", "--name", re.sub(r"\W+", "-", name), "--film", str(film),
                                         "--until", "filter"], {}, {0} if ok else {2}))
        if not quick:
            verdict = row["parody"].split()[0].rstrip(":")
            code = {"passed": 0, "failed": 1, "refused": 2}[verdict]
            out.append((f"{name}: parody run", ["run", "turn this clip into a silly spoof", "--film", str(film)],
                        {}, {code}))
    return out


def leftover_children(marker: str) -> list[str]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] in CHILD_PROGRAMS and marker in " ".join(proc.info["cmdline"] or []):
                found.append(f"{proc.pid} {proc.info['name']}")
        except psutil.Error:
            continue
    return found


def run_command(argv: list[str], env: dict, cwd: Path, child_log: Path) -> dict:
    child_log.unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", "agent.cli.main", *argv], cwd=cwd, capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT_S, env={**env, "ANIMSTUDIO_CHILD_LOG": str(child_log)})
        code, stderr = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:  # a hang is an input not handled, not the end of the benchmark
        tail = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        code, stderr = None, f"hung: no exit after {COMMAND_TIMEOUT_S}s\n{tail}"
    children = [json.loads(line) for line in child_log.read_text().splitlines()] if child_log.exists() else []
    return {"code": code, "stderr": stderr, "seconds": time.perf_counter() - start,
            "children": children, "peak_mb": max((c["peak_rss_mb"] for c in children), default=0.0)}


def clean(result: dict, expected: set[int], marker: str) -> list[str]:
    problems = []
    if result["code"] is None:
        problems.append(f"no exit within {COMMAND_TIMEOUT_S}s")
    elif result["code"] not in expected:
        problems.append(f"exit code {result['code']}, expected {sorted(expected)}")
    if "Traceback" in result["stderr"]:
        problems.append("a traceback on stderr")
    if result["code"] == 2 and not result["stderr"].lstrip().startswith("error:"):
        problems.append("bad input without an `error:` line")
    if result["peak_mb"] >= PEAK_GOAL_MB:
        problems.append(f"a child peaked at {result['peak_mb']:.0f} MB")
    if leftover_children(marker):
        problems.append("a child outlived the command")
    return problems


def anchor(truncated: Path, tmp: Path) -> tuple[str, float]:
    from tests.reliability.test_truncated_film import render_as_before
    from tools.media.probe import media_info

    claimed = media_info(truncated).container_duration
    child = render_as_before(truncated, tmp, claimed, ANCHOR_BOUND_MB, timeout_s=300)
    failure = child.failure()
    return (failure.reason if failure else "finished"), child.peak_rss_mb


def main() -> None:
    from tests.conftest import isolated_settings_dict
    from tests.reliability.corpus import build_corpus
    from tests.reliability.test_campaign_table import campaign_table

    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory(prefix="bench_robust_") as d:
        tmp = Path(d)
        corpus = build_corpus(tmp / "corpus")
        data = isolated_settings_dict(tmp)
        data["paths"]["media_roots"] = [str(tmp / "corpus")]
        data["llm"] = {"backend": "fake", "fake": {"script": str(ROOT / "benchmarks" / "robustness_script.yaml")}}
        data["quality"] = {"min_height": 90}
        data["agent"] = {"max_iterations": 1}
        (tmp / "samples").mkdir(exist_ok=True)
        config = tmp / "config.yaml"
        config.write_text(yaml.safe_dump(data))
        env = {**os.environ, "ANIMSTUDIO_CONFIG": str(config), "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
        cwd = tmp / "cwd"
        cwd.mkdir()
        (tmp / "runs" / "taken-run").mkdir(parents=True)
        shutil.copy(corpus["good"], cwd / "film.mp4")
        commands = corpus_commands(corpus, campaign_table(), quick)
        commands += [(n, a, e, {c}) for n, a, e, c in bad_arguments(corpus["good"], "taken-run")]
        handled, peak, rows = 0, 0.0, []
        for name, argv, extra, expected in commands:
            result = run_command(argv, {**env, **extra}, cwd, tmp / "children.jsonl")
            problems = clean(result, expected, str(tmp))
            handled += not problems
            peak = max(peak, result["peak_mb"])
            rows.append((name, result, problems))
            print(f"{'ok  ' if not problems else 'FAIL'} {name:<44} exit {result['code']}  {result['seconds']:5.1f}s  "
                  f"children {len(result['children']):3d}  peak {result['peak_mb']:6.1f} MB"
                  + (f"  <- {'; '.join(problems)}" if problems else ""), flush=True)
        strays = sorted(p.name for p in cwd.iterdir() if p.name != "film.mp4")
        if strays:
            print(f"files written in the working folder: {strays}")
            handled -= 1
        reason, anchor_peak = anchor(corpus["truncated"], tmp)
    total = len(commands)
    print(f"inputs: {total}, handled cleanly: {handled}, peak child memory over all inputs: {peak:.1f} MB "
          f"(goal < {PEAK_GOAL_MB} MB)")
    print(f"anchor: the old render of the truncated film, bounded at {ANCHOR_BOUND_MB} MB: {reason} at "
          f"{anchor_peak:.0f} MB")
    ratio = handled / total
    ok = ratio >= 1.0 and peak < PEAK_GOAL_MB
    print(f"BENCH robustness: ratio={ratio:.3f} goal>=1.0 {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
