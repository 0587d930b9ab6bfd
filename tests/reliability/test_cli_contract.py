"""The command line's promises: exit codes (0 passed, 1 finished failed, 2 bad input), errors on
stderr without tracebacks, run ids that never mix two runs, no path outside runs/, and no child
process outliving the command."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml
from typer.testing import CliRunner

from agent.cli.main import app
from tests.reliability.conftest import bounded_settings_dict

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "agent" / "fake_script.yaml"
REQUEST = "tell me about the clips in my library"


@pytest.fixture
def cli(tmp_path, corpus):
    cfg = tmp_path / "config.yaml"
    data = bounded_settings_dict(tmp_path)
    data["llm"] = {"backend": "fake", "fake": {"script": str(SCRIPT)}}
    cfg.write_text(yaml.safe_dump(data), encoding="utf-8")
    shutil.copy(corpus["good"], tmp_path / "samples" / "good film.mp4")
    env = {"ANIMSTUDIO_CONFIG": str(cfg), "COLUMNS": "200"}

    def run(*args: str, extra_env: dict | None = None):
        return CliRunner().invoke(app, list(args), env={**env, **(extra_env or {})})

    run.tmp, run.env = tmp_path, env
    return run


def _one_line_error(result, code: int = 2) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output and result.stderr.startswith("error: ")
    return result.stderr


def test_a_passed_run_exits_0_and_its_id_is_never_reused(cli):
    first = cli("run", REQUEST, "--json", "--run-id", "my-run")
    assert first.exit_code == 0, first.output
    run_dir = cli.tmp / "runs" / "my-run"
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.suffix == ".json"}
    assert {"result.json", "plan.json", "inputs.json"} <= set(before)

    again = cli("run", "list every video file", "--run-id", "my-run")
    assert "already taken" in _one_line_error(again) and "--resume my-run" in again.stderr
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.suffix == ".json"} == before
    resumed = cli("run", "--resume", "my-run", "--json")
    assert resumed.exit_code == 0 and json.loads(resumed.stdout)["request"] == REQUEST


def test_a_run_that_finishes_failed_exits_1_and_is_not_remembered(cli, corpus):
    shutil.copy(corpus["not media"], cli.tmp / "samples" / "notes.mp4")  # the probe step fails on it
    result = cli("run", REQUEST, "--json", "--run-id", "bad-library")
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed" and not summary["passed"]
    from rag.knowledge_base import open_knowledge_base
    from rag.runs import recorded
    from tools.core.settings import load_settings

    kb = open_knowledge_base(load_settings(cli.tmp / "config.yaml"))
    assert not recorded(kb, "bad-library")


@pytest.mark.parametrize("args,env,needle", [
    (["config", "show", "--set", "paths.media_roots=[/etc"], {}, "not valid YAML"),
    (["config", "show"], {"ANIMSTUDIO_AGENT": "{"}, "must hold a JSON object"),
    (["config", "show", "--set", "agent.max_iterations=many"], {}, "agent.max_iterations"),
    (["report", "../../../x"], {}, "Invalid run id"),
    (["run", "--resume", "../elsewhere"], {}, "Invalid run id"),
    (["run", REQUEST, "--run-id", "../../x"], {}, "Invalid run id"),
    (["kb", "search", "x", "--mode", "telepathy"], {}, "--mode"),
    (["dataset", "status", "no-such-set"], {}, "No dataset named"),
    (["dataset", "run", "--films", "films/", "--executor", "spark"], {}, "local or ray"),
    (["asr", "assemble"], {"ANIMSTUDIO_AGENT": "{"}, "must hold a JSON object"),
    (["tools", "call", "probe_media", "--args", '{"path": 1, "bogus": 2}'], {}, "unknown argument 'bogus'"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_2(cli, args, env, needle):
    result = cli(*args, extra_env=env)
    assert needle in _one_line_error(result)
    assert not list(cli.tmp.parent.glob("x")) and not (cli.tmp / "report.html").exists()


def test_tools_call_reads_a_path_relative_to_the_users_folder(cli, monkeypatch):
    monkeypatch.chdir(cli.tmp)
    result = cli("tools", "call", "probe_media", "--args", json.dumps({"path": "samples/good film.mp4"}))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["result"]["duration"] == pytest.approx(6.0, abs=0.05)


def test_sigterm_stops_the_command_and_its_ffmpeg(cli):
    """A real `animstudio` process rendering a long film: SIGTERM ends it and the encoder with it."""
    args = [sys.executable, "-m", "agent.cli.main", "tools", "call", "make_sample_film",
            "--args", json.dumps({"name": "long_one", "duration_s": 60})]
    proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **cli.env, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        encoder = None
        deadline = time.monotonic() + 120
        while encoder is None and time.monotonic() < deadline and proc.poll() is None:
            kids = psutil.Process(proc.pid).children(recursive=True)
            encoder = next((k for k in kids if k.name() == "ffmpeg"), None)
            time.sleep(0.1)
        assert encoder is not None, "the command never started its encoder"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        psutil.wait_procs([encoder], timeout=10)
        assert not encoder.is_running() or encoder.status() == psutil.STATUS_ZOMBIE
    finally:
        if proc.poll() is None:
            proc.kill()
