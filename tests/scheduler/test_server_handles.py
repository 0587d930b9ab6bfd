"""Server handles against loopback HTTP servers that speak the vLLM, Ollama and llama-swap endpoints."""
from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from tools.core.scheduler import ResourceScheduler, create_scheduler
from tools.core.scheduler.handles import (
    CommandHandle,
    LlamaSwapHandle,
    OllamaHandle,
    VLLMSleepHandle,
    build_handle,
)
from tools.core.settings import settings_from_dict
from tools.core.types import ToolError


class FakeServers(BaseHTTPRequestHandler):
    """One server, three APIs; state lives on the server object so tests can inspect it."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict:
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def do_GET(self):
        st = self.server.state
        st["calls"].append(("GET", self.path))
        url = urlparse(self.path)
        if url.path == "/is_sleeping":
            return self._send(200, {"is_sleeping": st["vllm_sleeping"]})
        if url.path == "/api/ps":
            return self._send(200, {"models": [{"name": m, "model": m} for m in st["ollama_loaded"]]})
        if url.path == "/running":
            return self._send(200, {"running": [{"model": m, "state": "ready"} for m in st["swap_running"]]})
        if url.path.startswith("/upstream/") and url.path.endswith("/health"):
            st["swap_running"].add(url.path.split("/")[2])
            return self._send(200, {"ok": True})
        return self._send(404, {"error": "not found"})

    def do_POST(self):
        st = self.server.state
        st["calls"].append(("POST", self.path))
        url = urlparse(self.path)
        if url.path == "/sleep":
            st["vllm_level"] = int(parse_qs(url.query)["level"][0])
            st["vllm_sleeping"] = True
            return self._send(200, {})
        if url.path == "/wake_up":
            st["vllm_sleeping"] = False
            return self._send(200, {})
        if url.path == "/api/generate":
            body = self._body()
            if body.get("model") not in st["ollama_pulled"]:
                return self._send(404, {"error": f"model '{body.get('model')}' not found"})
            if body.get("keep_alive") == 0:
                st["ollama_loaded"].discard(body["model"])
            else:
                st["ollama_loaded"].add(body["model"])
            return self._send(200, {"model": body["model"], "response": "", "done": True})
        if url.path == "/api/models/unload":
            st["swap_running"].clear()
            return self._send(200, {"msg": "ok"})
        return self._send(404, {"error": "not found"})


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), FakeServers)
    srv.state = {"calls": [], "vllm_sleeping": False, "vllm_level": None, "ollama_pulled": {"qwen2.5:7b"},
                 "ollama_loaded": set(), "swap_running": set()}
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_vllm_sleep_wake(server):
    srv, url = server
    handle = VLLMSleepHandle(url + "/v1")  # the OpenAI base URL works too
    assert handle.is_loaded()
    handle.unload()
    assert srv.state["vllm_sleeping"] and srv.state["vllm_level"] == 1 and not handle.is_loaded()
    handle.load()
    assert handle.is_loaded()


def test_ollama_keep_alive_zero(server):
    srv, url = server
    handle = OllamaHandle(url, "qwen2.5:7b")
    handle.load()
    assert handle.is_loaded()
    handle.unload()
    assert not handle.is_loaded() and srv.state["ollama_loaded"] == set()
    with pytest.raises(ToolError, match="404") as info:
        OllamaHandle(url, "missing:1b").load()
    assert "ollama pull missing:1b" in info.value.hint


def test_llama_swap_unload(server):
    srv, url = server
    handle = LlamaSwapHandle(url, "qwen")
    handle.load()
    assert handle.is_loaded()
    handle.unload()
    assert not handle.is_loaded() and ("POST", "/api/models/unload") in srv.state["calls"]


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(ToolError, match="unreachable") as info:
        VLLMSleepHandle("http://127.0.0.1:9", timeout_s=1).unload()
    assert "scheduler.handles" in info.value.hint


def test_scheduler_sleeps_an_awake_vllm_it_never_loaded_and_wakes_it_back(server):
    srv, url = server
    settings = settings_from_dict({"scheduler": {"profile": "cpu-only",
                                                 "handles": {"llm": {"kind": "vllm", "base_url": url}}}})
    sched = create_scheduler(settings)
    with sched.use("sdxl"):
        assert srv.state["vllm_sleeping"]  # awake since boot: slept before SDXL loads
    assert sched.switches[0].evicted == ["llm"]
    with sched.use("llm"):
        assert not srv.state["vllm_sleeping"]  # woken for the LLM call
    with sched.use("llm"):
        pass
    assert [c for c in srv.state["calls"] if c[0] == "POST"] == [("POST", "/sleep?level=1"), ("POST", "/wake_up")]


def test_bad_handle_config_names_the_setting():
    with pytest.raises(ToolError, match="scheduler.handles.llm"):
        build_handle("llm", {"kind": "tgi", "base_url": "x"})


def test_command_handle_runs_argument_lists(tmp_path):
    flag = tmp_path / "loaded flag"  # a space in the path: no shell quoting involved
    py = sys.executable
    handle = CommandHandle(load=[py, "-c", "import sys,pathlib; pathlib.Path(sys.argv[1]).touch()", str(flag)],
                           unload=[py, "-c", "import sys,pathlib; pathlib.Path(sys.argv[1]).unlink()", str(flag)],
                           status=[py, "-c", "import sys,pathlib; sys.exit(0 if pathlib.Path(sys.argv[1]).exists() else 1)", str(flag)])
    sched = ResourceScheduler()
    sched.register("sdxl", handle)
    with sched.use("sdxl"):
        assert flag.exists() and handle.is_loaded()
    with sched.use("llm"):
        assert not flag.exists()
    with pytest.raises(ToolError, match="exited with 1"):
        CommandHandle(load=[py, "-c", "raise SystemExit(1)"], unload=[py, "-c", "pass"]).load()
