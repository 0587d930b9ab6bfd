"""Two runs on one machine share the GPU through the lock file + ledger; a crashed run is cleared."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.scheduler.fakes import profile_16gb
from tools.core.scheduler import ResourceScheduler
from tools.core.scheduler.ledger import Ledger
from tools.core.trace import Trace, read_trace

ROOT = Path(__file__).resolve().parents[2]


def start_holder(tmp_path: Path, mode: str) -> tuple[subprocess.Popen, Path]:
    trace = tmp_path / f"holder-{mode}.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tests.scheduler.holder", str(tmp_path / "locks"), str(trace), mode],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc, trace


def scheduler(tmp_path: Path, trace: Trace) -> ResourceScheduler:
    return ResourceScheduler(profile_16gb(), trace, ledger=Ledger(tmp_path / "locks"), poll_interval_s=0.05,
                             free_timeout_s=15)


def test_idle_model_in_another_process_is_evicted_on_request(tmp_path):
    proc, holder_trace = start_holder(tmp_path, "idle")
    try:
        trace = Trace(tmp_path / "me.jsonl")
        sched = scheduler(tmp_path, trace)
        with sched.use("sdxl", reason="tool generate_image"):
            held = {(e.pid, e.resource) for e in sched.ledger.snapshot().entries}
            assert held == {(os.getpid(), "sdxl")}  # never both in the ledger
        assert sched.switches[0].evicted_elsewhere == [f"llm@{proc.pid}"]
        assert proc.stdout.readline().strip() == "evicted"
        assert any(e["kind"] == "scheduler.evicted_for_other_process" for e in read_trace(holder_trace))
        sched.close()
    finally:
        proc.kill()
        proc.wait()


def test_busy_model_in_another_process_is_waited_for(tmp_path):
    proc, _ = start_holder(tmp_path, "busy")
    try:
        sched = scheduler(tmp_path, Trace(None))
        start = time.monotonic()
        with sched.use("sdxl"):
            waited = time.monotonic() - start
        assert waited > 0.4  # the holder was mid-call for ~1 s and released only afterwards
        assert proc.stdout.readline().strip() == "evicted"
        sched.close()
    finally:
        proc.kill()
        proc.wait()


def test_crashed_holder_is_cleared_without_waiting(tmp_path):
    proc, _ = start_holder(tmp_path, "idle")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    trace = Trace(tmp_path / "me.jsonl")
    sched = scheduler(tmp_path, trace)
    sched.free_timeout_s = 2.0
    start = time.monotonic()
    with sched.use("sdxl"):
        pass
    assert time.monotonic() - start < 1.5
    stale = [e for e in trace.read() if e["kind"] == "scheduler.stale_cleared"]
    assert stale and stale[0]["pid"] == proc.pid and stale[0]["resource"] == "llm"
    sched.close()
    assert sched.ledger.snapshot().entries == []
