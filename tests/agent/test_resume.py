"""Kill a run with SIGKILL in the middle of a step, resume it by thread id: no finished step repeats."""
import os
import signal
import subprocess
import sys
import textwrap
import time

from agent import Agent
from agent.llm import FakeChatModel
from tests.agent.scripted import count_of, handler_for
from tools.core.trace import read_trace

SCRIPT = textwrap.dedent("""
    import json, sys
    from tests.agent import scripted
    from tools.core.settings import settings_from_dict
    from agent import Agent
    from agent.llm import FakeChatModel
    settings = settings_from_dict(json.loads(sys.argv[1]))
    Agent(settings=settings, llm=FakeChatModel(handler=scripted.handler_for())).run("slow note", run_id=sys.argv[2])
""")


def test_killed_run_resumes_without_repeating_finished_steps(agent_settings, counters, tmp_path, monkeypatch):
    settings = agent_settings()
    env = {**os.environ, "ANIMSTUDIO_TEST_SLOW": "60", "ANIMSTUDIO_TEST_COUNTERS": str(counters),
           "PYTHONPATH": os.getcwd()}
    run_id = "killed-run"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, settings.model_dump_json(), run_id], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while count_of(counters, "g_slow") == 0:  # wait until the slow step is running
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.time() < deadline, "the run never reached the slow step"
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert count_of(counters, "g_write_first") == 1

    monkeypatch.setenv("ANIMSTUDIO_TEST_SLOW", "0")
    result = Agent(settings=settings, llm=FakeChatModel(handler=handler_for())).resume(run_id)
    assert result.status == "passed", result.final_answer
    assert count_of(counters, "g_write_first") == 1  # finished before the kill: not repeated
    assert count_of(counters, "g_slow") == 2  # interrupted: run again
    assert count_of(counters, "g_write_last") == 1
    trace = list(read_trace(result.trace_path))
    assert any(e["kind"] == "run.resume" for e in trace)
    assert result.final_answer and (result.artifact_paths()[-1]).read_text() == "first and last"
