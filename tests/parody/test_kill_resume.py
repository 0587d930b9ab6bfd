"""A parody run killed (SIGKILL) while render_edit encodes resumes without redoing finished steps."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from agent import Agent
from agent.llm import FakeChatModel
from tests.parody.media_checks import tool_counts
from tests.parody.scripted import parody_handler
from tools.core.trace import read_trace
from tools.media.probe import media_info

ROOT = Path(__file__).resolve().parents[2]


def test_killed_mid_render_resumes_from_the_checkpoint(parody_film, parody_settings, tmp_path):
    # Its own knowledge base: a second process writing the session's shared one left this process's index
    # stale ("Error finding id" in later tests' cast lookups, so their speakers fell back to generic roles).
    settings = parody_settings(rag={"persist_dir": str(tmp_path / "chroma")})
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(settings.model_dump_json())
    run_id = "parody-kill-1"
    trace = Path(settings.paths.runs_dir) / run_id / "trace.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tests.parody.runner", str(settings_file), str(parody_film), run_id],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if any(e["kind"] == "video.render.start" for e in read_trace(trace)):
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = tool_counts(trace)
    assert before["write_parody_script"] == 1 and before["voice_script"] == 1 and before["assemble_parody"] == 0
    voiced = before["synthesize_speech"]

    result = Agent(settings=settings, llm=FakeChatModel(handler=parody_handler())).resume(run_id)
    # The resumed iteration repeats nothing that finished before the kill; a later iteration may redo what
    # the evaluation blamed (the gate hears every line back), so the count stops at the first re-plan.
    events = list(read_trace(trace))
    cut = next((i for i, e in enumerate(events) if e["kind"] == "reflect.replan"), len(events))
    after = Counter(e["tool"] for e in events[:cut] if e["kind"] == "tool.call" and e.get("ok"))
    for done in ("find_scene", "write_parody_script", "voice_script"):
        assert after[done] == 1, (done, after)  # finished before the kill: not repeated
    assert after["synthesize_speech"] == voiced and after["assemble_parody"] == 1 and after["score_parody"] == 1
    assert any(e["kind"] == "run.resume" for e in read_trace(trace))
    video = Path(result.run_dir) / result.step_results["render"]["result"]["video"]
    assert result.status == "passed" and media_info(video).duration > 10
