"""Every external program runs bounded, in its own process group, dies with the agent, and fails
with its real reason."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tools.core.child_processes import ChildFailed, live_children, run_child

ROOT = Path(__file__).resolve().parents[2]


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_a_failing_program_reports_its_exit_code_and_stderr():
    with pytest.raises(ChildFailed) as err:
        run_child(["sh", "-c", "echo 'Invalid data found' >&2; exit 3"], what="probe")
    assert err.value.reason == "exit" and err.value.returncode == 3
    assert "exit code 3" in str(err.value) and "Invalid data found" in str(err.value)
    assert run_child(["sh", "-c", "exit 4"], check=False).returncode == 4  # a plain exit is a result
    assert run_child(["cat"], input=b"x" * 200_000).stdout == b"x" * 200_000


def test_time_limit_kills_the_whole_process_group():
    started = time.monotonic()
    with pytest.raises(ChildFailed) as err:
        run_child(["sh", "-c", "sleep 60 & echo $! ; wait"], what="slow tool", timeout_s=1.0)
    assert err.value.reason == "timeout" and "1s time limit" in str(err.value)
    assert time.monotonic() - started < 10
    assert not live_children()


def test_grandchildren_die_with_their_group(tmp_path):
    pidfile = tmp_path / "pid"
    with pytest.raises(ChildFailed):
        run_child(["sh", "-c", f"sleep 60 & echo $! > '{pidfile}'; sleep 60"], timeout_s=1.0)
    assert _gone(int(pidfile.read_text()))


def test_memory_limit_stops_a_growing_child_and_says_so():
    grow = "import time\nb = []\nwhile True:\n    b.append(bytearray(20 * 2**20))\n    time.sleep(0.01)\n"
    with pytest.raises(ChildFailed) as err:
        run_child([sys.executable, "-c", grow], what="greedy tool", memory_mb=150, address_space_mb=0, timeout_s=60)
    assert err.value.reason == "memory" and "150 MB memory limit" in str(err.value)
    assert 150 <= err.value.peak_rss_mb < 400


def test_a_signal_from_outside_is_named():
    with pytest.raises(ChildFailed) as err:
        run_child(["sh", "-c", "kill -TERM $$"], what="victim")
    assert err.value.reason == "signal" and "SIGTERM" in str(err.value)


def test_a_missing_program_is_a_clear_error():
    with pytest.raises(ChildFailed) as err:
        run_child(["/no/such/ffmpeg", "-version"])
    assert err.value.reason == "missing" and "install" in err.value.hint


AGENT = """
import sys, time
from tools.core.child_processes import Child, install_signal_handlers
install_signal_handlers()
child = Child(["sleep", "120"], what="sleeper")
print(child.proc.pid, flush=True)
child.wait()
"""


def _agent_with_child() -> tuple[subprocess.Popen, int]:
    agent = subprocess.Popen([sys.executable, "-c", AGENT], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    return agent, int(agent.stdout.readline())


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_the_child_dies_with_its_parent(how):
    agent, child = _agent_with_child()
    assert psutil.Process(child).is_running()
    os.kill(agent.pid, how)
    agent.wait(timeout=30)
    assert _gone(child), f"the child outlived its parent after {how.name}"
    if how == signal.SIGTERM:
        assert agent.returncode == 128 + signal.SIGTERM


def test_children_get_at_most_the_address_space_the_agent_was_given():
    """Under `prlimit --as` (a shared server) a child asking for more than the agent's own hard limit
    gets that limit instead of failing to start, and an allocation past it names the inherited limit."""
    script = (
        "from tools.core.child_processes import ChildFailed, run_child\n"
        "ok = run_child(['sh', '-c', 'ulimit -v'], address_space_mb=16384).stdout.decode().strip()\n"
        "print('granted', ok)\n"
        "try:\n"
        "    run_child(['python3', '-c', 'bytearray(3 * 2**30)'], what='greedy tool', address_space_mb=16384)\n"
        "except ChildFailed as exc:\n"
        "    print('failed', exc.reason, '|', exc.message)\n")
    done = subprocess.run(["prlimit", "--as=2147483648", sys.executable, "-c", script], capture_output=True, text=True, check=False,
                          timeout=120, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "granted 2097152" in done.stdout  # kB: the 2 GiB the agent has, not the 16 GiB asked for
    assert "failed memory | greedy tool ran out of memory" in done.stdout
    assert "2048 MB address-space limit the agent was started with (ulimit -v / prlimit --as)" in done.stdout
