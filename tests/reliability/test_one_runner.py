"""Every external program starts in one place (tools/core/child_processes.py): no other module of the
product imports subprocess or starts a process another way."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agent", "tools", "rag", "workflows")
RUNNER = ROOT / "tools" / "core" / "child_processes.py"
FORBIDDEN_CALLS = {("os", "system"), ("os", "popen"), ("os", "spawnl"), ("os", "spawnv"), ("os", "execv"),
                   ("os", "execvp"), ("os", "posix_spawn"), ("os", "fork"), ("pty", "spawn")}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in ("subprocess", "multiprocessing.popen_fork")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "subprocess":
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            if (node.func.value.id, node.func.attr) in FORBIDDEN_CALLS:
                found.append(f"{node.func.value.id}.{node.func.attr}()")
        elif isinstance(node, ast.keyword) and node.arg == "shell" and getattr(node.value, "value", None) is True:
            found.append("shell=True")
    return [f"{path.relative_to(ROOT)}: {v}" for v in found]


def test_only_the_child_runner_starts_programs():
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if p != RUNNER]
    assert len(files) > 50
    problems = [v for path in files for v in _violations(path)]
    assert problems == [], "start programs with tools.core.child_processes.run_child / Child:\n" + "\n".join(problems)


def test_the_runner_itself_is_found_by_the_check():
    assert any("import subprocess" in v for v in _violations(RUNNER))
