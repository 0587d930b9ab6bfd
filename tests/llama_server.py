"""llama-cpp-python's own OpenAI-compatible server (`python -m llama_cpp.server`) on a free loopback port.

The real server the `openai` backend meets in the wild: it answers `response_format: json_schema` with an
error (its request model knows only text / json_object), speaks SSE, lists its model. It serves the
packaged SmolLM2-135M GGUF, one thread, a small context: a call costs a second or two.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

import httpx

ALIAS = "smollm2-135m"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    def __init__(self, model: Path, *, alias: str = ALIAS, n_ctx: int = 2048, n_threads: int = 1,
                 log: Path | None = None):
        self.model, self.alias, self.n_ctx, self.n_threads = model, alias, n_ctx, n_threads
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self.proc: subprocess.Popen | None = None
        self._out = None

    def start(self, timeout_s: float = 120.0) -> Self:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
               "--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads)]
        self._out = open(self.log, "wb") if self.log else None  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, stdout=self._out or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode} (log: {self.log})")
            try:
                if httpx.get(self.base_url + "/models", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not answer within {timeout_s:.0f}s (log: {self.log})")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        if self._out is not None:
            self._out.close()
            self._out = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
