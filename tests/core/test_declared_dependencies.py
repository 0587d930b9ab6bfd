"""Every third-party package the code imports is declared in pyproject.toml (or installed by .ci/setup.sh).

A package present in a developer's environment but missing from pyproject.toml passes every local run
and breaks a fresh install, so the imports are read from the source, not from what happens to be here.
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["agent", "tools", "rag", "workflows", "knowledge", "tests", "benchmarks"]
# Installed by .ci/setup.sh itself (insightface without its opencv-python requirement).
SETUP_INSTALLS = {"insightface"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + [s for extra in project.get("optional-dependencies", {}).values()
                                              for s in extra]
    return {_norm(re.split(r"[\s<>=!~;\[(]", s, maxsplit=1)[0]) for s in specs} | SETUP_INSTALLS


def _imports() -> dict[str, str]:
    local = set(PACKAGES) | {p.stem for p in (ROOT / "benchmarks").glob("*.py")}
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
                for name in names:
                    top = name.split(".")[0]
                    if top not in local and top not in sys.stdlib_module_names:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared() -> None:
    declared, owners = _declared(), packages_distributions()
    undeclared = []
    for module, where in sorted(_imports().items()):
        dists = {_norm(d) for d in owners.get(module, [])} or {_norm(module)}
        if not dists & declared:
            undeclared.append(f"{module} (imported in {where}; distribution {', '.join(sorted(dists))})")
    assert not undeclared, "imported but not declared in pyproject.toml: " + "; ".join(undeclared)
