"""Studio fixtures: settings isolated under tmp_path with the quick test workflows and the scripted
model, and a TestClient on a freshly built app (its workers run while the client is open)."""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import isolated_settings_dict
from tests.studio import scripted

HERE = Path(__file__).resolve().parent


def studio_settings_dict(root: Path, **sections) -> dict:
    data = isolated_settings_dict(root)
    data["llm"] = {"backend": "fake", "fake": {"script": str(HERE / "fake_notes.yaml")}}
    data["agent"] = {"workflow_dirs": [str(scripted.write_workflows(root / "workflows"))]}
    data["studio"] = {"queue_db": str(root / "studio.sqlite")}
    (root / "samples").mkdir(parents=True, exist_ok=True)
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return data


@pytest.fixture
def studio_settings(tmp_path):
    from tools.core.settings import settings_from_dict

    return lambda **sections: settings_from_dict(studio_settings_dict(tmp_path, **sections))


@pytest.fixture
def client(studio_settings):
    """A client on a running studio (lifespan started: workers take queued runs)."""
    from fastapi.testclient import TestClient

    from agent.studio import create_app

    with TestClient(create_app(studio_settings()), base_url="http://127.0.0.1") as c:
        yield c


def sse_events(response) -> list[dict]:
    """Parse a text/event-stream body into its events' JSON data."""
    events = []
    for block in response.text.split("\n\n"):
        data = [line[5:].strip() for line in block.splitlines() if line.startswith("data:")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events


def wait_for(client, run_id: str, statuses: tuple[str, ...], timeout: float = 120) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = client.get(f"/runs/{run_id}").json()
        if info["status"] in statuses:
            return info
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} stayed {info['status']}, expected one of {statuses}")


@contextmanager
def live_server(settings, host: str = "127.0.0.1"):
    """The studio app served by uvicorn on a free loopback port, in a thread; yields its base URL and
    stops it after (the same server `animstudio serve` runs, on a socket: real HTTP, real limits)."""
    import uvicorn

    from agent.studio import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(settings, host=host), host=host, port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        assert time.time() < deadline and thread.is_alive(), "the studio did not start"
        time.sleep(0.05)
    try:
        yield f"http://{host}:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
