"""The order of the project's packages, written once: imports only go down it.

Each tier is a tuple of units (a top-level package, or one family under `tools/`); a module may
import its own unit and any unit of a lower tier, never a unit of its own tier (sideways) or of a
higher one (up). `tests/core/test_layers.py` reads every import of the source tree against this
table and `animstudio docs sync` draws the diagram in docs/architecture.md from the same imports.
"""
from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Top to bottom. What each tier is for is the `WHY` beside it (shown in the generated diagram).
TIERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("agent",), "Agent API, CLI + chat, studio + HTTP API, graph + nodes, planning, LLM backends, report"),
    (("workflows",), "YAML plan templates + the Plan/Step model"),
    (("rag",), "knowledge base, past runs, web search"),
    (("tools.parody", "tools.dataset"), "composers: a whole job built from the families below"),
    (("tools.video", "tools.quality", "tools.image"), "video editing and analysis, scoring results, SDXL images"),
    (("tools.audio",), "speech: synthesis and recognition, which video and quality build on"),
    (("tools.media",), ("media files and shared vocabularies: probe, ffmpeg, WAV, subtitles, images, "
                        "identity backends, character presets")),
    (("tools.core",), "the framework: settings, registry, context, workspace, trace, scheduler, findings"),
)
SOURCE_DIRS = ("agent", "workflows", "rag", "tools")
RANK: dict[str, int] = {unit: i for i, (units, _) in enumerate(TIERS) for unit in units}


def unit_of(module: str) -> str | None:
    """The unit a dotted module name belongs to (`tools.video.edl` → `tools.video`); None if not ours."""
    parts = module.split(".")
    if parts[0] == "tools":
        return f"tools.{parts[1]}" if len(parts) > 1 and f"tools.{parts[1]}" in RANK else "tools.core"
    return parts[0] if parts[0] in RANK else None


@dataclass(frozen=True)
class Import:
    path: str  # relative to the root, posix
    line: int
    source: str  # the importing unit
    target: str  # the imported unit
    module: str  # the imported module as written (made absolute)
    names: tuple[str, ...] = ()  # `from module import names`: some may be modules themselves

    @property
    def rule(self) -> str | None:
        """Why this import breaks the order, or None when it goes down (or stays in its unit)."""
        if self.source == self.target:
            return None
        a, b = RANK[self.source], RANK[self.target]
        if b > a:
            return None
        where = "sideways (the same tier)" if a == b else "up"
        return (f"{self.source} may not import {self.target}: it goes {where} in tools/core/layers.py "
                f"(move what both need down to a lower tier)")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path, dirs: tuple[str, ...] = SOURCE_DIRS) -> list[Import]:
    """Every import between our packages in the source tree under `root`, lazy ones included."""
    found: list[Import] = []
    for d in dirs:
        for path in sorted((root / d).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            module = _module_name(root, path)
            source = unit_of(module)
            if source is None:
                continue
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    targets = [(a.name, ()) for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                        name = ".".join(base + ([node.module] if node.module else []))
                    else:
                        name = node.module or ""
                    targets = [(name, tuple(a.name for a in node.names))]
                else:
                    continue
                for name, imported in targets:
                    target = unit_of(name)
                    if target is not None:
                        found.append(Import(path.relative_to(root).as_posix(), node.lineno, source, target, name,
                                            imported))
    return found


def violations(root: Path) -> list[Import]:
    """The imports that go up or sideways, in file order."""
    return [i for i in imports(root) if i.rule is not None]


def module_graph(root: Path, under: str = "tools") -> dict[str, set[str]]:
    """Module → the modules it imports (lazy imports included), for the modules under `under`."""
    modules = {_module_name(root, p) for p in (root / under).rglob("*.py") if "__pycache__" not in p.parts}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for i in imports(root, (under,)):
        source = _module_name(root, root / i.path)
        for name in [f"{i.module}.{n}" for n in i.names] or [i.module]:
            while name and name not in modules:  # `from pkg import sub` names a module; a class names its module
                name = name.rpartition(".")[0]
            if name and name != source:
                graph[source].add(name)
    return graph


def cycles(root: Path, under: str = "tools") -> list[list[str]]:
    """Groups of modules under `under` that import each other, directly or round a circle."""
    graph = module_graph(root, under)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def edges(root: Path) -> Counter[tuple[str, str]]:
    """How many import statements go from one unit to another (the diagram's arrows)."""
    return Counter((i.source, i.target) for i in imports(root) if i.source != i.target)
