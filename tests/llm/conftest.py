from __future__ import annotations

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


def openai_settings(base_url: str, **overrides):
    cfg = {"base_url": base_url, "model": "test-model", "timeout_s": 2.0, "max_retries": 2,
           "retry_backoff_s": 0.01, **overrides}
    return settings_from_dict({"llm": {"backend": "openai", "openai": cfg}})
