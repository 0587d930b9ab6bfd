"""The one place that starts external programs (ffmpeg, ffprobe, espeak-ng, piper, ...).

Every child process:
- is started from an argument list (never a shell), with stdin closed unless the caller feeds it;
- leads its own process group, so a kill reaches anything it started, and Ctrl-C in a terminal
  reaches only the agent, which then stops its children itself;
- dies with the agent: the kernel sends it SIGKILL when the thread that started it ends
  (PR_SET_PDEATHSIG, Linux), and SIGTERM/SIGINT/SIGHUP handlers plus an atexit hook stop the ones
  still running when the agent is stopped more politely;
- is bounded in memory twice: RLIMIT_AS (address space; an allocation past it fails inside the
  child, which then exits with "Cannot allocate memory") and a watchdog thread that polls the
  resident memory of the whole group and kills it past the limit — the second also catches
  programs that reserve little and touch a lot. A limit is never set above what the agent itself
  may grant (its own hard limit, e.g. under `ulimit -v` or `prlimit --as`): it is clamped, and a
  child that fails under such an inherited limit says so;
- may belong to a scope (a run): `cancel_scope` kills the scope's children and refuses new ones,
  so cancelling one run of a server stops its programs and leaves the other runs' alone;
- is bounded in time by the same watchdog;
- ends in a ChildFailed that says what really happened: the limit it hit, the signal that
  stopped it, or its exit code with the tail of its stderr.
"""
from __future__ import annotations

import atexit
import contextlib
import contextvars
import ctypes
import ctypes.util
import errno
import json
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import psutil

from tools.core.types import ToolError

Reason = Literal["exit", "signal", "timeout", "memory", "interrupted", "missing"]

# Defaults for children whose caller gives no limit; `configure` sets them from Settings.limits.
_defaults: dict[str, float] = {"memory_mb": 3072, "address_space_mb": 16384, "timeout_s": 3600.0}
POLL_S = 0.1
STDERR_KEEP = 16 * 2**20  # bytes of a child's stderr kept (the end: where summaries and errors are)
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_prctl = getattr(_libc, "prctl", None)


def configure(*, memory_mb: float | None = None, address_space_mb: float | None = None,
              timeout_s: float | None = None) -> None:
    """Process-wide defaults for children started without explicit limits (set from Settings.limits
    whenever a tool context is made; the last one made wins)."""
    for key, value in (("memory_mb", memory_mb), ("address_space_mb", address_space_mb), ("timeout_s", timeout_s)):
        if value is not None:
            _defaults[key] = float(value)


def defaults() -> dict[str, float]:
    return dict(_defaults)


class ChildFailed(ToolError):
    """A child process failed; `reason` says how (exit, signal, timeout, memory, interrupted, missing)."""

    def __init__(self, what: str, reason: Reason, *, returncode: int | None = None, stderr_tail: str = "",
                 peak_rss_mb: float = 0.0, limit: float | None = None, address_space: bool = False, hint: str = "",
                 inherited: bool = False):
        self.what, self.reason, self.returncode = what, reason, returncode
        self.stderr_tail, self.peak_rss_mb, self.limit = stderr_tail, peak_rss_mb, limit
        message = _describe(what, reason, returncode, stderr_tail, peak_rss_mb, limit)
        if address_space and inherited:
            message = (f"{what} ran out of memory: an allocation failed under the {limit:.0f} MB address-space "
                       "limit the agent was started with (ulimit -v / prlimit --as)")
            hint = hint or (f"that limit is too small for {what}: raise it (limits.child_address_space_mb "
                            "only lowers it further)")
        elif address_space:
            message = f"{what} ran out of memory: an allocation failed under its {limit:.0f} MB address-space limit"
        super().__init__(message, hint or _HINTS.get(reason, ""))


_HINTS = {
    "memory": "the input may be damaged (e.g. a truncated file); raise limits.child_memory_mb only for trusted input",
    "timeout": "shorten the input or raise the time limit",
    "missing": "install it or fix its setting",
    "signal": "something outside the agent stopped it",
    "interrupted": "the run was stopped; resume it with --resume",
    "exit": "see the run trace for the full command",
}


def _describe(what: str, reason: Reason, returncode: int | None, tail: str, peak: float, limit: float | None) -> str:
    if reason == "memory":
        return f"{what} was stopped: it used {peak:.0f} MB, over its {limit:.0f} MB memory limit"
    if reason == "timeout":
        return f"{what} was stopped: it ran past its {limit:g}s time limit"
    if reason == "interrupted":
        return f"{what} was stopped because the agent was interrupted"
    if reason == "missing":
        return f"{what}: the program was not found"
    if reason == "signal" and returncode is not None:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"{what} was killed by {name}" + (f": {tail}" if tail else "")
    return f"{what} failed (exit code {returncode})" + (f": {tail}" if tail else "")


def _tail(data: bytes, lines: int = 6) -> str:
    text = data.decode("utf-8", "replace").strip().splitlines()
    return " | ".join(line.strip() for line in text[-lines:])[:1200]


def address_space_limit_mb() -> float | None:
    """This process's own address-space limit (ulimit -v / prlimit --as) in MB, or None when unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else round(soft / 2**20, 1)


_NO_ADDRESS_SPACE = ("can't start new thread", "failed to map segment", "cannot allocate memory",
                     "out of memory", "std::bad_alloc")


def out_of_address_space(exc: BaseException) -> str | None:
    """A message naming the limit when `exc` is this process running out of address space under
    an inherited RLIMIT_AS (an allocation, a thread stack or a library mapping that failed); else None."""
    limit = address_space_limit_mb()
    if limit is None:
        return None
    text = str(exc).lower()
    if not (isinstance(exc, MemoryError) or getattr(exc, "errno", None) == errno.ENOMEM
            or any(marker in text for marker in _NO_ADDRESS_SPACE)):
        return None
    return (f"the agent ran out of address space under the limit it was started with: {limit:.0f} MB "
            f"(ulimit -v / prlimit --as) — {type(exc).__name__}: {str(exc)[:200]}")


# -- live children, so signal handlers and atexit can stop them ----------------------------------
_live: dict[int, "Child"] = {}
_live_lock = threading.Lock()
_scope: contextvars.ContextVar[str | None] = contextvars.ContextVar("animstudio_child_scope", default=None)
_cancelled: set[str] = set()


class Cancelled(BaseException):
    """The run this child belongs to was cancelled. A BaseException, like KeyboardInterrupt: no tool
    turns it into a failed step, so the graph stops with the step unfinished and a resume runs it again."""


class ScopedThreadPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in the submitter's context: children they start belong to the
    submitter's scope (a cancelled run stops them too)."""

    def submit(self, fn, /, *args, **kwargs):
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Children started inside (this thread, and threads that copy its context) belong to `name`."""
    token = _scope.set(name)
    try:
        yield
    finally:
        _scope.reset(token)


def cancel_scope(name: str) -> list[int]:
    """Kill the scope's running children and refuse new ones in it; returns the pids that were killed."""
    with _live_lock:
        _cancelled.add(name)
        children = [c for c in _live.values() if c.scope == name]
    killed = []
    for child in children:
        if child.running():
            child.kill("interrupted")
            killed.append(child.proc.pid)
    return killed


def forget_scope(name: str) -> None:
    """Allow children in a cancelled scope again (the cancelled run is resumed)."""
    with _live_lock:
        _cancelled.discard(name)


def scope_children(name: str) -> list[int]:
    """Pids of the scope's children that are still running."""
    with _live_lock:
        return [pid for pid, c in _live.items() if c.scope == name and c.running()]


def live_children() -> list[int]:
    """Pids of the children started here that are still running."""
    with _live_lock:
        return [pid for pid, c in _live.items() if c.running()]


def stop_all(reason: Reason = "interrupted") -> int:
    """Kill every running child's process group; returns how many were running."""
    with _live_lock:
        children = list(_live.values())
    n = 0
    for child in children:
        if child.running():
            child.kill(reason)
            n += 1
    return n


atexit.register(stop_all)
_handlers_installed = False


def install_signal_handlers() -> None:
    """SIGTERM/SIGHUP → stop children, exit 128+signal; SIGINT → stop children, KeyboardInterrupt.

    Call once from the main thread of a program (the CLI does); libraries never install handlers.
    """
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return

    def on_term(signum, _frame):
        stop_all()
        raise SystemExit(128 + signum)

    def on_int(signum, _frame):
        stop_all()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    signal.signal(signal.SIGINT, on_int)
    _handlers_installed = True


# -- starting ------------------------------------------------------------------------------------
def granted(resource_id: int, wanted: int) -> tuple[int, bool]:
    """The most of `wanted` this process may give a child for an rlimit: (value, clamped).

    A child can never raise a limit above its parent's hard limit (setrlimit fails, and with it the
    start of the child); under a tighter inherited limit the child gets that one instead."""
    _soft, hard = resource.getrlimit(resource_id)
    if hard != resource.RLIM_INFINITY and wanted > hard:
        return hard, True
    return wanted, False


def _preexec(limits: list[tuple[int, int]], parent: int):
    """Runs in the child between fork and exec: no allocation-heavy Python here. `limits` are
    (resource, value) pairs already clamped to what this process may grant."""

    def setup() -> None:
        if _prctl is not None:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(137)
        for resource_id, value in limits:
            resource.setrlimit(resource_id, (value, value))

    return setup


def _high_water(pid: int) -> int:
    """Peak resident memory of a process since its exec (VmHWM), in bytes; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _group_memory(pid: int) -> tuple[int, int]:
    """(resident memory now, peak so far) of a child and everything it started, in bytes."""
    try:
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
    except psutil.Error:
        return 0, 0
    rss = peak = 0
    for proc in procs:
        try:
            now = proc.memory_info().rss
        except psutil.Error:
            continue
        rss += now
        peak += max(now, _high_water(proc.pid))
    return rss, peak


@dataclass
class ChildResult:
    args: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    seconds: float
    peak_rss_mb: float

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace")


@dataclass
class Child:
    """A running child under the watchdog. Use as a context manager; `check()` after it ends.

    `stdout`: "pipe", "devnull" or an open binary file; `stderr`: "capture" (drained by a thread,
    the last STDERR_KEEP bytes kept: a chatty child can never block on a full pipe), "devnull" or
    an open binary file. `stdin`: True to feed it.
    """

    args: list[str]
    what: str = ""
    timeout_s: float | None = None
    memory_mb: float | None = None
    address_space_mb: float | None = None  # 0: no address-space limit
    stdin: bool = False
    stdout: Any = "pipe"
    stderr: Any = "capture"
    cwd: Path | None = None
    env: dict[str, str] | None = None
    reason: Reason | None = field(default=None, init=False)
    peak_rss: int = field(default=0, init=False)
    scope: str | None = field(default=None, init=False)
    inherited_limit: bool = field(default=False, init=False)  # the address space was clamped to the agent's own

    def __post_init__(self) -> None:
        self.args = [str(a) for a in self.args]
        if not self.args:
            raise ValueError("an empty command")
        self.what = self.what or Path(self.args[0]).name
        self.timeout_s = float(self.timeout_s if self.timeout_s is not None else _defaults["timeout_s"])
        self.memory_mb = float(self.memory_mb if self.memory_mb is not None else _defaults["memory_mb"])
        if self.address_space_mb is None:
            self.address_space_mb = float(_defaults["address_space_mb"])
        limits: list[tuple[int, int]] = []
        if self.address_space_mb > 0:
            address_space, self.inherited_limit = granted(resource.RLIMIT_AS, int(self.address_space_mb * 2**20))
            self.address_space_mb = round(address_space / 2**20, 1)
            limits.append((resource.RLIMIT_AS, address_space))
        self.scope = _scope.get()
        with _live_lock:
            if self.scope in _cancelled:
                raise Cancelled(self.scope)
        self._done = threading.Event()
        self._started = time.monotonic()
        try:
            self.proc = subprocess.Popen(
                self.args, stdin=subprocess.PIPE if self.stdin else subprocess.DEVNULL,
                stdout=_stream(self.stdout), stderr=_stream(self.stderr), cwd=self.cwd, env=self.env,
                process_group=0, preexec_fn=_preexec(limits, os.getpid()), close_fds=True)
        except FileNotFoundError as exc:
            raise ChildFailed(self.what, "missing", hint=f"install {Path(self.args[0]).name} or fix its setting") from exc
        except PermissionError as exc:
            raise ChildFailed(self.what, "missing", hint=f"{self.args[0]} is not executable") from exc
        except OSError as exc:  # e.g. ENOMEM: the program cannot even start under the address-space limit
            if exc.errno != errno.ENOMEM:
                raise
            raise ChildFailed(self.what, "memory", limit=self.address_space_mb, address_space=True,
                              inherited=self.inherited_limit) from exc
        with _live_lock:
            _live[self.proc.pid] = self
            if self.scope in _cancelled:  # cancelled while it was starting
                self.kill("interrupted")
        self._err: list[bytes] = []
        self._err_reader = None
        if self.stderr == "capture":
            self._err_reader = threading.Thread(target=_drain, args=(self.proc.stderr, self._err, STDERR_KEEP),
                                                daemon=True)
            self._err_reader.start()
        self._watchdog = threading.Thread(target=self._watch, name=f"watchdog-{self.proc.pid}", daemon=True)
        self._watchdog.start()

    # -- watchdog ----------------------------------------------------------------------------------
    def _watch(self) -> None:
        limit = self.memory_mb * 2**20
        interval = 0.01  # look early (short-lived children), then every POLL_S
        while not self._done.wait(interval):
            interval = min(POLL_S, interval * 2)
            if not self.running():
                return
            rss, peak = _group_memory(self.proc.pid)
            self.peak_rss = max(self.peak_rss, peak, rss)
            if rss > limit:
                self.kill("memory")
                return
            if time.monotonic() - self._started > self.timeout_s:
                self.kill("timeout")
                return

    def running(self) -> bool:
        """Still running (not exited); never reaps the child."""
        if self.proc.returncode is not None:
            return False
        try:
            return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            return False

    def kill(self, reason: Reason) -> None:
        """Kill the whole process group; the first reason given to a running child is the one reported."""
        if self.reason is None and self.running():
            self.reason = reason
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    # -- ending ------------------------------------------------------------------------------------
    def wait(self) -> int:
        """Wait for the child to end, then stop its watchdog and anything it left behind. A child of a
        cancelled scope raises Cancelled: its output is not a result."""
        if self.proc.returncode is None:
            self.proc.wait()
        self._finish()
        if self.scope is not None and self.scope in _cancelled:
            raise Cancelled(self.scope)
        return self.proc.returncode

    def _finish(self) -> None:
        if self._done.is_set():
            return
        self._done.set()
        with _live_lock:
            _live.pop(self.proc.pid, None)
        _log(self)
        try:  # anything the child started and left behind goes with it
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    @property
    def seconds(self) -> float:
        return round(time.monotonic() - self._started, 3)

    @property
    def peak_rss_mb(self) -> float:
        return round(self.peak_rss / 2**20, 1)

    def stderr_bytes(self) -> bytes:
        """What the child wrote to stderr (with stderr="capture"; call after `wait`)."""
        if self._err_reader is not None:
            self._err_reader.join(timeout=10)
        return b"".join(self._err)

    def failure(self, stderr: bytes | None = None) -> ChildFailed | None:
        """Why the child did not succeed, or None (call after `wait`)."""
        if stderr is None:
            stderr = self.stderr_bytes()
        code = self.proc.returncode
        if self.reason == "memory":
            return ChildFailed(self.what, "memory", returncode=code, stderr_tail=_tail(stderr),
                               peak_rss_mb=self.peak_rss_mb, limit=self.memory_mb)
        if self.reason in ("timeout", "interrupted"):
            return ChildFailed(self.what, self.reason, returncode=code, stderr_tail=_tail(stderr),
                               peak_rss_mb=self.peak_rss_mb, limit=self.timeout_s)
        if code is None or code == 0:
            return None
        if code < 0:
            return ChildFailed(self.what, "signal", returncode=code, stderr_tail=_tail(stderr),
                               peak_rss_mb=self.peak_rss_mb)
        tail = _tail(stderr)
        said = stderr.decode("utf-8", "replace")[-65536:].lower()
        if self.address_space_mb and any(m in said for m in ("cannot allocate memory", "memoryerror", "bad_alloc")):
            return ChildFailed(self.what, "memory", returncode=code, stderr_tail=tail, peak_rss_mb=self.peak_rss_mb,
                               limit=self.address_space_mb, address_space=True, inherited=self.inherited_limit)
        return ChildFailed(self.what, "exit", returncode=code, stderr_tail=tail, peak_rss_mb=self.peak_rss_mb)

    def __enter__(self) -> "Child":
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None:  # the caller failed or stopped reading: the child is no longer wanted
            self.kill("interrupted")
        for pipe in (self.proc.stdin, self.proc.stdout):  # stderr stays with its reader until the end
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass
        self.wait()
        if self._err_reader is not None:
            self._err_reader.join(timeout=10)
        if self.proc.stderr is not None:
            try:
                self.proc.stderr.close()
            except OSError:
                pass


def _log(child: "Child") -> None:
    """With ANIMSTUDIO_CHILD_LOG set, one JSON line per finished child (what, peak memory, reason):
    how benchmarks/robustness.py sees the children of a command it runs."""
    target = os.environ.get("ANIMSTUDIO_CHILD_LOG")
    if not target:
        return
    line = json.dumps({"what": child.what, "program": Path(child.args[0]).name, "pid": child.proc.pid,
                       "returncode": child.proc.returncode, "reason": child.reason, "seconds": child.seconds,
                       "peak_rss_mb": child.peak_rss_mb, "memory_limit_mb": child.memory_mb})
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:
        pass


def _stream(spec: Any) -> Any:
    if spec in ("pipe", "capture"):
        return subprocess.PIPE
    if spec == "devnull":
        return subprocess.DEVNULL
    return spec


def _drain(pipe: IO[bytes], sink: list[bytes], keep: int | None = None) -> None:
    """Read a pipe to its end; with `keep`, hold on to roughly the last `keep` bytes only."""
    held = 0
    try:
        for chunk in iter(lambda: pipe.read(65536), b""):
            sink.append(chunk)
            held += len(chunk)
            while keep is not None and held > keep and len(sink) > 1:
                held -= len(sink.pop(0))
    except (OSError, ValueError):  # the pipe was closed under us (the child is being stopped)
        pass


def run_child(args: list[str], *, what: str = "", timeout_s: float | None = None, memory_mb: float | None = None,
              address_space_mb: float | None = None, input: bytes | None = None, check: bool = True, cwd: Path | None = None,
              env: dict[str, str] | None = None, stdout: Any = "pipe") -> ChildResult:
    """Run a program to the end under the limits; its stdout/stderr are collected.

    With `check`, anything but exit code 0 raises ChildFailed; without it, limits and signals
    still raise (those are never a result), and a plain non-zero exit is returned.
    """
    out: list[bytes] = []
    with Child(args, what=what, timeout_s=timeout_s, memory_mb=memory_mb, address_space_mb=address_space_mb,
               stdin=input is not None, stdout=stdout, cwd=cwd, env=env) as child:
        readers = []
        if child.proc.stdout is not None:
            readers.append(threading.Thread(target=_drain, args=(child.proc.stdout, out), daemon=True))
        for r in readers:
            r.start()
        if input is not None:
            try:
                child.proc.stdin.write(input)
            except (BrokenPipeError, OSError):
                pass  # the child's exit status says why
            finally:
                try:
                    child.proc.stdin.close()
                except OSError:
                    pass
        child.wait()
        for r in readers:
            r.join()
    stderr = child.stderr_bytes()
    failure = child.failure(stderr)
    if failure is not None and (check or failure.reason != "exit"):
        raise failure
    return ChildResult(args=child.args, returncode=child.proc.returncode, stdout=b"".join(out), stderr=stderr,
                       seconds=child.seconds, peak_rss_mb=child.peak_rss_mb)
