"""The `animstudio` command line, run as a user would (real subprocesses)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import isolated_settings_dict

SCRIPT = Path(__file__).with_name("fake_script.yaml")


@pytest.fixture
def cli(tmp_path):
    cfg = tmp_path / "cfg dir" / "config.yaml"
    cfg.parent.mkdir()
    data = isolated_settings_dict(tmp_path)
    data["llm"] = {"backend": "fake", "fake": {"script": str(SCRIPT)}}
    cfg.write_text(yaml.safe_dump(data))
    (tmp_path / "samples").mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=10", "-f", "lavfi",
                    "-i", "sine", "-t", "1", "-c:v", "libx264", "-c:a", "aac",
                    str(tmp_path / "samples" / "clip ✓.mp4")], check=True)
    exe = Path(sys.executable).with_name("animstudio")

    def run(*args, input_text=None, check=True):
        proc = subprocess.run([str(exe), *args], capture_output=True, text=True, input=input_text, timeout=300,
                              env={**os.environ, "ANIMSTUDIO_CONFIG": str(cfg), "COLUMNS": "200"})
        if check:
            assert proc.returncode == 0, proc.stderr[-3000:]
        return proc

    run.tmp = tmp_path
    return run


def test_tools_list_and_call(cli):
    schemas = json.loads(cli("tools", "list", "--json").stdout)
    names = {s["function"]["name"] for s in schemas}
    assert {"probe_media", "list_media", "render_edit", "detect_scenes"} <= names
    film = cli.tmp / "samples" / "clip ✓.mp4"
    out = json.loads(cli("tools", "call", "probe_media", "--args", json.dumps({"path": str(film)})).stdout)
    assert out["ok"] and out["result"]["has_audio"]
    bad = cli("tools", "call", "probe_media", "--args", '{"path": 3, "extra": 1}', check=False)
    assert bad.returncode == 2 and "unknown argument 'extra'" in bad.stderr
    bad = cli("tools", "call", "probe_media", "--args", "{not json", check=False)
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr


def test_run_json_and_plan_dry_run(cli):
    out = json.loads(cli("run", "describe my media library", "--json").stdout)
    assert out["status"] == "passed" and out["score"] == 1.0
    run_dir = Path(out["run_dir"])
    assert (run_dir / "trace.jsonl").exists() and (run_dir / "result.json").exists()
    assert (run_dir / "report.html").exists()
    preview = json.loads(cli("plan", "describe my media library", "--json").stdout)
    assert preview["plan"]["workflow"] == "describe_library" and preview["order"] == ["list", "probe"]
    assert preview["plan"]["params"]["pattern"] == "*.mp4"


def test_readable_errors(cli, tmp_path):
    err = cli("run", "   ", check=False)
    assert err.returncode == 2 and "request is empty" in err.stderr
    err = cli("run", "parody", "--film", str(tmp_path / "nope.mp4"), check=False)
    assert err.returncode == 2 and "Film not found" in err.stderr
    typo = tmp_path / "typo.yaml"
    typo.write_text("agent:\n  stratgy: cot\n")
    err = cli("config", "show", "--config", str(typo), check=False)
    assert err.returncode == 2 and "did you mean 'agent.strategy'" in err.stderr
    shown = yaml.safe_load(cli("config", "show", "--set", "agent.max_iterations=4").stdout)
    assert shown["agent"]["max_iterations"] == 4


def test_chat_keeps_state_and_survives_bad_input(cli):
    session = "/tools\nnot a command\n/nonsense\ndescribe my media library\n/plan\n/history\n/quit\n"
    out = cli("chat", input_text=session).stdout
    assert "probe_media" in out  # /tools
    assert "Unknown command /nonsense" in out
    assert "list → list_media" in out or "list" in out  # /plan shows the last plan
    assert "you describe my media library" in out.replace("  ", " ")  # /history
    assert out.rstrip().endswith("Bye.")


def test_doctor_names_missing_settings(cli):
    out = cli("doctor").stdout
    assert "ffmpeg" in out and "image.sdxl_model_path" in out
