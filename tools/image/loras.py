"""The LoRA registry (configs/loras.yaml): name → path, kind, trigger words, default weight.

The dataset pipeline registers the LoRAs it trains here; generation reads them by name.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError


class LoraEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    path: Path
    kind: Literal["character", "style", "background"] = "character"
    trigger_words: list[str] = Field(default_factory=list)
    weight: float = 1.0
    base_model: str = ""
    notes: str = ""


def registry_path(settings) -> Path:
    return resolve_path(settings.image.loras_file)


def load_registry(settings) -> dict[str, LoraEntry]:
    path = registry_path(settings)
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("loras", []) if isinstance(data, dict) else []
    try:
        return {e["name"]: LoraEntry.model_validate(e) for e in entries}
    except Exception as exc:
        raise ToolError(f"{path} has an invalid LoRA entry: {exc}", "fix the file or remove the entry") from exc


def get_lora(settings, name: str) -> LoraEntry:
    registry = load_registry(settings)
    if name not in registry:
        raise ToolError(f"Unknown LoRA {name!r}", f"known LoRAs: {sorted(registry) or 'none'} (see {registry_path(settings)})")
    return registry[name]


def register_lora(settings, entry: LoraEntry) -> Path:
    """Add or replace an entry, writing the YAML atomically."""
    registry = load_registry(settings)
    registry[entry.name] = entry
    path = registry_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"loras": [e.model_dump(mode="json") for e in sorted(registry.values(), key=lambda e: e.name)]}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".loras-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(payload, fh, sort_keys=False, allow_unicode=True)
    os.replace(tmp, path)
    return path
