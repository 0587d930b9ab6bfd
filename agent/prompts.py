"""Load the YAML prompts and format them."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PROMPTS_FILE = Path(__file__).with_name("prompts.yaml")


@lru_cache(maxsize=1)
def _prompts() -> dict[str, str]:
    return yaml.safe_load(PROMPTS_FILE.read_text(encoding="utf-8"))


def prompt(name: str, **values: Any) -> str:
    return _prompts()[name].format(**values).strip()
