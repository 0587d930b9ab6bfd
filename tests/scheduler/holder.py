"""A second run on the same machine, for the cross-process tests: holds `llm` through the ledger.

usage: python -m tests.scheduler.holder LEDGER_DIR TRACE_FILE MODE   (MODE: idle | busy)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.scheduler.fakes import profile_16gb
from tools.core.scheduler import InProcessHandle, ResourceScheduler
from tools.core.scheduler.ledger import Ledger
from tools.core.trace import Trace


def main() -> None:
    ledger_dir, trace_file, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    sched = ResourceScheduler(profile_16gb(), Trace(trace_file), ledger=Ledger(ledger_dir), poll_interval_s=0.05,
                              free_timeout_s=20)
    handle = InProcessHandle(loader=lambda: bytearray(1 << 20), name="llm")
    sched.register("llm", handle)
    if mode == "busy":
        with sched.use("llm"):
            print("ready", flush=True)
            time.sleep(1.0)  # a long LLM call: the other run must wait for it
    else:
        with sched.use("llm"):
            pass
        print("ready", flush=True)
    deadline = time.monotonic() + 20
    while handle.is_loaded() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("evicted" if not handle.is_loaded() else "still loaded", flush=True)
    time.sleep(0.3)


if __name__ == "__main__":
    main()
