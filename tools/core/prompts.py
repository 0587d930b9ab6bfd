"""Prompts are data: each package keeps its prompts in a `prompts.yaml` beside its modules.

One mechanism renders them all: a named template, `str.format` with the given values (literal
braces are doubled), surrounding white space stripped. `agent/prompts.yaml` holds the agent's
prompts; a tool family's prompts live in `tools/<family>/prompts.yaml`.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROMPTS_FILE = "prompts.yaml"


@lru_cache(maxsize=None)
def load_prompts(path: Path) -> dict[str, str]:
    """Every template of one prompts file (read once per process)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: a prompts file maps names to template strings")
    return data


class PromptBook:
    """The prompts of one package: `book("name", value=...)` renders template `name`."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def beside(cls, module_file: str | Path) -> PromptBook:
        """The `prompts.yaml` in the folder of `module_file` (pass `__file__`)."""
        return cls(Path(module_file).resolve().with_name(PROMPTS_FILE))

    def names(self) -> list[str]:
        return sorted(load_prompts(self.path))

    def __call__(self, name: str, **values: Any) -> str:
        templates = load_prompts(self.path)
        if name not in templates:
            raise KeyError(f"no prompt {name!r} in {self.path} (has: {', '.join(sorted(templates))})")
        return templates[name].format(**values).strip()
