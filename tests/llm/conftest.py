from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.llm.chat_server import ChatServer
from tools.core.scheduler import ResourceScheduler
from tools.core.settings import settings_from_dict
from tools.core.trace import Trace


@pytest.fixture
def server():
    with ChatServer() as srv:
        yield srv


@pytest.fixture
def trace(tmp_path):
    return Trace(tmp_path / "trace.jsonl")


@pytest.fixture
def scheduler(trace):
    return ResourceScheduler(trace=trace)


def openai_settings(base_url: str, cache_dir: Path | None = None, **overrides):
    cfg = {"base_url": base_url, "model": "test-model", "timeout_s": 2.0, "max_retries": 2,
           "retry_backoff_s": 0.01, **overrides}
    # The per-endpoint cache (agent/llm/capabilities.py) stays out of the project's .cache.
    cache = cache_dir or Path(tempfile.gettempdir()) / f"animstudio-llm-tests-{os.getpid()}"
    return settings_from_dict({"llm": {"backend": "openai", "openai": cfg}, "paths": {"cache_dir": str(cache)}})
