"""LoRA adapters on a loaded SDXL pipeline: load by registry name, mix with weights, unload cleanly.

Adapters stay loaded between calls (loading is the slow part) up to `image.max_loaded_loras`;
beyond that the least recently used is deleted with `delete_adapters`. Each call activates
exactly the adapters it asked for (`set_adapters`), or disables LoRA when it asked for none, so
no earlier call leaks into a later image.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError
from tools.image.loras import LoraEntry

LORA_SUFFIXES = {".safetensors", ".bin"}


@dataclass(frozen=True)
class ActiveLora:
    entry: LoraEntry
    weight: float
    path: Path


def parse_lora_spec(spec: str) -> tuple[str, float | None]:
    """'name' or 'name:0.8' (the A1111 habit) → (name, weight or None)."""
    spec = spec.strip()
    if ":" in spec:
        name, _, weight = spec.rpartition(":")
        try:
            return name.strip(), float(weight)
        except ValueError:
            pass
    return spec, None


def lora_file(entry: LoraEntry) -> Path:
    """The weights file of an entry: a .safetensors file, or a folder holding exactly one."""
    path = resolve_path(entry.path)
    if path.is_dir():
        preferred = path / "pytorch_lora_weights.safetensors"
        if preferred.is_file():
            return preferred
        files = sorted(p for p in path.iterdir() if p.suffix in LORA_SUFFIXES)
        if len(files) != 1:
            raise ToolError(f"LoRA {entry.name!r}: folder {path} holds {len(files)} weight files",
                            "point its path at the .safetensors file to use")
        return files[0]
    if not path.is_file():
        raise ToolError(f"LoRA {entry.name!r}: weights not found at {path}",
                        "fix its path in configs/loras.yaml or retrain it")
    if path.stat().st_size == 0:
        raise ToolError(f"LoRA {entry.name!r}: {path} is empty", "the file is incomplete; retrain or re-copy it")
    return path


def adapter_name(name: str) -> str:
    # peft adapter names become module attribute keys: no dots or odd characters.
    return "lora_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


class LoraState:
    """Which adapters are loaded into one pipeline, keyed by (file, mtime) so a retrained LoRA reloads."""

    def __init__(self, pipe: Any, max_loaded: int = 4):
        self.pipe = pipe
        self.max_loaded = max(1, max_loaded)
        self.loaded: OrderedDict[str, tuple[str, float]] = OrderedDict()  # adapter → (file, mtime)

    def activate(self, loras: list[ActiveLora]) -> None:
        names = []
        for lora in loras:
            name = adapter_name(lora.entry.name)
            key = (str(lora.path), lora.path.stat().st_mtime)
            if self.loaded.get(name) != key:
                if name in self.loaded:
                    self.pipe.delete_adapters([name])
                    del self.loaded[name]
                self._load(name, lora)
                self.loaded[name] = key
            self.loaded.move_to_end(name)
            names.append(name)
        self._evict(keep=set(names))
        if not names:
            if self.loaded:
                self.pipe.disable_lora()
            return
        self.pipe.enable_lora()
        self.pipe.set_adapters(names, adapter_weights=[lora.weight for lora in loras])

    def _load(self, name: str, lora: ActiveLora) -> None:
        try:
            self.pipe.load_lora_weights(str(lora.path.parent), weight_name=lora.path.name, adapter_name=name)
        except (ValueError, KeyError, OSError, RuntimeError) as exc:
            raise ToolError(f"LoRA {lora.entry.name!r} could not be loaded into this SDXL model: {str(exc)[:300]}",
                            "is it an SDXL LoRA (not SD1.5/Flux) in diffusers or kohya format?") from exc

    def _evict(self, keep: set[str]) -> None:
        while len(self.loaded) > self.max_loaded:
            victim = next((n for n in self.loaded if n not in keep), None)
            if victim is None:
                break
            self.pipe.delete_adapters([victim])
            del self.loaded[victim]

    def unload_all(self) -> None:
        if self.loaded:
            self.pipe.unload_lora_weights()
            self.loaded.clear()

    def active_adapters(self) -> list[str]:
        return list(self.pipe.get_active_adapters()) if self.loaded else []
