"""Model handles: load / unload / is_loaded for in-process models and model servers.

Server handles speak the endpoints each server documents:
- vLLM (started with VLLM_SERVER_DEV_MODE=1 --enable-sleep-mode): POST /sleep?level=1, POST /wake_up,
  GET /is_sleeping → {"is_sleeping": bool}
- Ollama: POST /api/generate {"model": m, "keep_alive": 0} unloads, the same without keep_alive 0
  and without a prompt loads; GET /api/ps lists the loaded models
- llama-swap: POST /api/models/unload (older builds: GET /unload); GET /running lists models
- any other server: a configured command (an argument list, never a shell string)
"""
from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import Annotated, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from tools.core.types import ToolError


def release_torch_memory() -> None:
    """Give cached blocks back to the driver so other processes (and NVML) see the memory free."""
    torch = sys.modules.get("torch")  # never import torch just to free nothing
    if torch is None:
        return
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
            torch.cuda.ipc_collect()  # memory shared with DataLoader workers / other processes
        mps = getattr(torch, "mps", None)
        if mps is not None and torch.backends.mps.is_available():
            mps.empty_cache()
    except Exception:
        pass


class InProcessHandle:
    """A model living in this process (diffusers pipeline, llama.cpp model, TTS model).

    `loader` builds the model; unload drops every reference this handle holds, collects garbage and
    empties the CUDA cache. Owners must not keep other references, or the memory stays held.
    """

    def __init__(self, loader: Callable[[], Any] | None = None, name: str = "model", model: Any = None):
        self.loader, self.name, self.model = loader, name, model

    def attach(self, model: Any) -> None:
        self.model = model

    def load(self) -> None:
        if self.model is None and self.loader is not None:
            self.model = self.loader()

    def unload(self) -> None:
        self.model = None
        gc.collect()
        release_torch_memory()

    def is_loaded(self) -> bool:
        return self.model is not None

    def __repr__(self) -> str:
        return f"InProcessHandle({self.name}, loaded={self.is_loaded()})"


class _HttpHandle:
    kind = "server"

    def __init__(self, base_url: str, timeout_s: float = 60.0):
        # The OpenAI base URL users already configured works too: the control endpoints sit at the root.
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.timeout_s = timeout_s

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.base_url + path
        try:
            response = httpx.request(method, url, timeout=self.timeout_s, **kwargs)
        except httpx.HTTPError as exc:
            raise ToolError(f"{self.kind} at {self.base_url} is unreachable ({type(exc).__name__}: {exc})",
                            "start the server or fix scheduler.handles.<resource>.base_url") from exc
        if response.status_code >= 400:
            raise ToolError(f"{self.kind} {method} {path} answered HTTP {response.status_code}: {response.text[:200]}",
                            self._hint(response.status_code))
        return response

    def _hint(self, status: int) -> str:
        return "check the server's logs"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url})"


class VLLMSleepHandle(_HttpHandle):
    kind = "vLLM"

    def __init__(self, base_url: str, level: int = 1, timeout_s: float = 120.0):
        super().__init__(base_url, timeout_s)
        self.level = level

    def _hint(self, status: int) -> str:
        if status == 404:
            return "start vLLM with --enable-sleep-mode and VLLM_SERVER_DEV_MODE=1 (the sleep endpoints are dev-mode only)"
        return "check the vLLM server log"

    def load(self) -> None:
        self._request("POST", "/wake_up")

    def unload(self) -> None:
        # Level 1 offloads weights to CPU RAM and drops the KV cache: waking takes ~1 s, not a reload.
        self._request("POST", "/sleep", params={"level": self.level})

    def is_loaded(self) -> bool:
        return not bool(self._request("GET", "/is_sleeping").json().get("is_sleeping", False))


class OllamaHandle(_HttpHandle):
    kind = "Ollama"

    def __init__(self, base_url: str, model: str, keep_alive: str | int = "10m", timeout_s: float = 120.0):
        super().__init__(base_url, timeout_s)
        self.model, self.keep_alive = model, keep_alive

    def _hint(self, status: int) -> str:
        return f"check that `ollama pull {self.model}` was done" if status == 404 else "check `ollama ps` and the server log"

    def load(self) -> None:
        # A request without a prompt only loads the model and keeps it for keep_alive.
        self._request("POST", "/api/generate", json={"model": self.model, "keep_alive": self.keep_alive})

    def unload(self) -> None:
        self._request("POST", "/api/generate", json={"model": self.model, "keep_alive": 0})

    def is_loaded(self) -> bool:
        models = self._request("GET", "/api/ps").json().get("models") or []
        names = {m.get("name") for m in models} | {m.get("model") for m in models}
        return self.model in names or f"{self.model}:latest" in names


class LlamaSwapHandle(_HttpHandle):
    kind = "llama-swap"

    def __init__(self, base_url: str, model: str, timeout_s: float = 120.0):
        super().__init__(base_url, timeout_s)
        self.model = model

    def load(self) -> None:
        # llama-swap starts the upstream on the first request routed to it.
        self._request("GET", f"/upstream/{self.model}/health")

    def unload(self) -> None:
        try:
            self._request("POST", "/api/models/unload")
        except ToolError as exc:
            if "HTTP 404" not in exc.message and "HTTP 405" not in exc.message:
                raise
            self._request("GET", "/unload")  # builds before the /api routes

    def is_loaded(self) -> bool:
        running = self._request("GET", "/running").json().get("running") or []
        return any(r.get("model") == self.model and r.get("state", "ready") != "stopped" for r in running)


class CommandHandle:
    """Argument-list commands (no shell) for servers with no API: e.g. `systemctl --user stop ...`."""

    kind = "command"

    def __init__(self, load: list[str], unload: list[str], status: list[str] | None = None, timeout_s: float = 120.0):
        self.load_cmd, self.unload_cmd, self.status_cmd, self.timeout_s = load, unload, status, timeout_s
        self._loaded = False  # used only when no status command is configured

    def _run(self, argv: list[str]) -> int:
        from tools.core.child_processes import ChildFailed, run_child

        try:
            return run_child(argv, what=f"scheduler command {argv[0]}", timeout_s=self.timeout_s, check=False).returncode
        except ChildFailed as exc:
            if exc.reason == "missing":
                raise ToolError(f"scheduler command not found: {argv[0]}",
                                "fix scheduler.handles.<resource>.load/unload") from exc
            raise ToolError(f"scheduler command {argv}: {exc.message}", "check the command") from exc

    def load(self) -> None:
        if (rc := self._run(self.load_cmd)) != 0:
            raise ToolError(f"load command {self.load_cmd} exited with {rc}", "run it by hand to see why")
        self._loaded = True

    def unload(self) -> None:
        if (rc := self._run(self.unload_cmd)) != 0:
            raise ToolError(f"unload command {self.unload_cmd} exited with {rc}", "run it by hand to see why")
        self._loaded = False

    def is_loaded(self) -> bool:
        return self._run(self.status_cmd) == 0 if self.status_cmd else self._loaded

    def __repr__(self) -> str:
        return f"CommandHandle({self.unload_cmd})"


# -- configuration (settings.scheduler.handles: resource -> one handle config) -------------------
class _Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid")
    timeout_s: float = 120.0


class VLLMConfig(_Cfg):
    kind: Literal["vllm"]
    base_url: str
    level: Literal[1, 2] = 1


class OllamaConfig(_Cfg):
    kind: Literal["ollama"]
    base_url: str = "http://127.0.0.1:11434"
    model: str
    keep_alive: str | int = "10m"


class LlamaSwapConfig(_Cfg):
    kind: Literal["llama-swap"]
    base_url: str
    model: str


class CommandConfig(_Cfg):
    kind: Literal["command"]
    load: list[str] = Field(min_length=1)
    unload: list[str] = Field(min_length=1)
    status: list[str] | None = None


HandleConfig = Annotated[VLLMConfig | OllamaConfig | LlamaSwapConfig | CommandConfig, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(HandleConfig)


def build_handle(resource: str, raw: dict[str, Any]) -> Any:
    try:
        cfg = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise ToolError(f"scheduler.handles.{resource} is invalid: {exc.errors()[0]['msg']} ({raw})",
                        "kind must be one of vllm, ollama, llama-swap, command; see docs/hardware.md") from exc
    if isinstance(cfg, VLLMConfig):
        return VLLMSleepHandle(cfg.base_url, cfg.level, cfg.timeout_s)
    if isinstance(cfg, OllamaConfig):
        return OllamaHandle(cfg.base_url, cfg.model, cfg.keep_alive, cfg.timeout_s)
    if isinstance(cfg, LlamaSwapConfig):
        return LlamaSwapHandle(cfg.base_url, cfg.model, cfg.timeout_s)
    return CommandHandle(cfg.load, cfg.unload, cfg.status, cfg.timeout_s)


def handles_from_settings(handles: dict[str, dict[str, Any] | list[dict[str, Any]]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for resource, raw in handles.items():
        items = raw if isinstance(raw, list) else [raw]
        out[resource] = [build_handle(resource, item) for item in items]
    return out
