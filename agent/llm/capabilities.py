"""What an OpenAI-compatible endpoint supports, learnt once and kept per endpoint.

Servers reject a structured-output mode they lack in different ways: vLLM/OpenAI answer 400 or 422,
llama-cpp-python's server answers HTTP 500 with a pydantic message (`Input should be 'text' or
'json_object'`). What they share is that the message names the response format or the schema, so
that (not the status) decides a step-down. The mode that worked is written to a small JSON file per
endpoint under the cache dir, so the next run starts there instead of failing once more.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

STRUCTURED_MODES = ("json_schema", "json_object", "none")

# Words an error names when it is about the structured-output request, not the prompt or the server.
_FORMAT_WORDS = re.compile(
    r"response_format|response format|json_schema|json schema|json_object|'text' or 'json_object'|"
    r"\bschema\b|\bstrict\b|additionalproperties|\$defs|\$ref|anyof|oneof|grammar|guided_json|structured output",
    re.IGNORECASE)


def names_format(message: str) -> bool:
    """True when an error message is about the response format / schema (whatever the HTTP status)."""
    return bool(_FORMAT_WORDS.search(message or ""))


def lower_mode(mode: str) -> str | None:
    i = STRUCTURED_MODES.index(mode)
    return STRUCTURED_MODES[i + 1] if i + 1 < len(STRUCTURED_MODES) else None


def _key(base_url: str, model: str) -> str:
    return f"{base_url.rstrip('/')}|{model}"


class EndpointCache:
    """`<cache_dir>/llm_endpoints/<hash>.json`: one small file per endpoint + model, written atomically."""

    def __init__(self, folder: Path | None):
        self.folder = folder

    def _file(self, base_url: str, model: str) -> Path | None:
        if self.folder is None:
            return None
        digest = hashlib.sha1(_key(base_url, model).encode("utf-8")).hexdigest()[:16]
        return self.folder / f"{digest}.json"

    def read(self, base_url: str, model: str) -> dict[str, Any]:
        path = self._file(base_url, model)
        if path is None or not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) and data.get("endpoint") == _key(base_url, model) else {}

    def update(self, base_url: str, model: str, **values: Any) -> None:
        path = self._file(base_url, model)
        if path is None:
            return
        data = {**self.read(base_url, model), **values, "endpoint": _key(base_url, model), "updated": time.time()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".endpoint-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache costs one failed call per run, nothing more

    def structured_mode(self, base_url: str, model: str) -> str | None:
        mode = self.read(base_url, model).get("structured_mode")
        return mode if mode in STRUCTURED_MODES else None


def cache_for(settings) -> EndpointCache:
    from tools.core.settings.loader import resolve_path

    return EndpointCache(resolve_path(settings.paths.cache_dir) / "llm_endpoints")
