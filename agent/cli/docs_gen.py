"""The generated parts of the docs, read from the code so they cannot drift: `animstudio docs sync`.

- docs/configuration.md: the whole page, from the Settings model (agent/cli/config_doc.py).
- docs/architecture.md: the regions between `<!-- generated: NAME -->` and `<!-- end generated -->`:
  `state` (the AgentState keys, their reducers and the nodes that write them), `trace-events`
  (every `trace.event("kind", ...)` call in agent/, tools/, rag/ and workflows/, with its fields) and
  `layers` (the tiers of tools/core/layers.py with every import between packages, read from the source).

A test compares each page with what this module renders and names this command when they differ.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("agent", "tools", "rag", "workflows")
COMMAND = "animstudio docs sync"
_REGION = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


@dataclass
class EventKind:
    kind: str
    fields: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _sources(dirs: tuple[str, ...] = SOURCE_DIRS) -> list[Path]:
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts)


def trace_events() -> list[EventKind]:
    """Every literal event kind passed to a `.event(...)` call, with its keyword fields and files."""
    found: dict[str, EventKind] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "event"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                continue
            entry = found.setdefault(node.args[0].value, EventKind(node.args[0].value))
            for kw in node.keywords:
                name = kw.arg if kw.arg is not None else "…"
                if name not in entry.fields:
                    entry.fields.append(name)
            rel = path.relative_to(ROOT).as_posix()
            if rel not in entry.files:
                entry.files.append(rel)
    return [found[k] for k in sorted(found)]


def _dict_keys_returned(path: Path, function: str | None = None) -> set[str]:
    """String keys of the dicts the functions of a module return (or one function): returned dict
    literals, and dicts built in a variable (`update = {...}; update["k"] = ...; return update`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keys: set[str] = set()

    def literal_keys(node: ast.AST) -> set[str]:
        if not isinstance(node, ast.Dict):
            return set()
        return {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}

    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or (function and fn.name != function):
            continue
        returned = {n.value.id for n in ast.walk(fn) if isinstance(n, ast.Return) and isinstance(n.value, ast.Name)}
        for node in ast.walk(fn):
            if isinstance(node, ast.Return) and node.value is not None:
                keys |= literal_keys(node.value)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id in returned:
                        keys |= literal_keys(node.value)
                    elif (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                          and target.value.id in returned and isinstance(target.slice, ast.Constant)):
                        keys.add(str(target.slice.value))
    return keys


def _state_fields() -> list[tuple[str, str, str]]:
    """(key, type, reducer) of AgentState as written in agent/state.py."""
    source = (ROOT / "agent" / "state.py").read_text(encoding="utf-8")
    cls = next(n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef) and n.name == "AgentState")
    out = []
    for item in cls.body:
        if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
            continue
        ann, reducer = item.annotation, "replace"
        if isinstance(ann, ast.Subscript) and ast.unparse(ann.value) == "Annotated":
            parts = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            ann, reducer = parts[0], ast.unparse(parts[1])
        out.append((item.target.id, ast.unparse(ann), reducer))
    return out


def state_rows() -> list[tuple[str, str, str, str]]:
    """(key, type, reducer, written by) for every key of AgentState."""
    fields = _state_fields()
    writers: dict[str, list[str]] = {k: [] for k, _, _ in fields}
    for key in _dict_keys_returned(ROOT / "agent" / "api.py", "_start_state"):
        if key in writers:
            writers[key].append("inputs")
    for path in sorted((ROOT / "agent" / "nodes").glob("*.py")):
        node = {"react": "execute (ReAct)"}.get(path.stem, path.stem)
        for key in sorted(_dict_keys_returned(path)):
            if key in writers and node not in writers[key]:
                writers[key].append(node)
    return [(k, t.replace("|", "\\|"), r, ", ".join(writers[k]) or "—") for k, t, r in fields]


def _layer_lines() -> list[str]:
    """The tiers top to bottom with the packages' real imports (which package imports which, not how
    often, so the page changes only when a new dependency between packages appears)."""
    from tools.core.layers import RANK, TIERS, edges

    found = edges(ROOT)
    ids = {u: u.replace(".", "_") for units, _ in TIERS for u in units}
    lines = ["```mermaid", "flowchart TB"]
    for i, (units, why) in enumerate(TIERS):
        lines.append(f'  subgraph tier{i}["{why}"]')
        lines += [f'    {ids[u]}["{u.replace(".", "/")}/"]' for u in units]
        lines.append("  end")
    for i in range(len(TIERS) - 1):  # keeps the tiers stacked in order even where no import links them
        lines.append(f"  tier{i} ~~~ tier{i + 1}")
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in sorted(found)]
    lines += ["```", "", "| package | imports |", "| --- | --- |"]
    for units, _ in TIERS:
        for u in units:
            out = sorted((b for a, b in found if a == u), key=lambda b: (RANK[b], b))
            lines.append(f"| `{u.replace('.', '/')}/` | " + (", ".join(f"`{b.replace('.', '/')}/`" for b in out)
                                                               or "—") + " |")
    return lines


def render_region(name: str) -> str:
    if name == "state":
        lines = ["| key | type | reducer | written by |", "| --- | --- | --- | --- |"]
        lines += [f"| {k} | `{t}` | {r} | {w} |" for k, t, r, w in state_rows()]
    elif name == "trace-events":
        lines = ["| kind | fields | emitted in |", "| --- | --- | --- |"]
        for e in trace_events():
            files = ", ".join(f"`{f}`" for f in e.files)
            lines.append(f"| `{e.kind}` | {', '.join(e.fields) or '—'} | {files} |")
    elif name == "layers":
        lines = _layer_lines()
    else:
        raise KeyError(f"unknown generated region {name!r} (known: state, trace-events, layers)")
    return "\n".join(lines) + "\n"


def render_architecture(text: str) -> str:
    return _REGION.sub(lambda m: m.group(1) + render_region(m.group("name")) + m.group(4), text)


def rendered_docs() -> dict[Path, str]:
    """Each generated page as it should be on disk."""
    from agent.cli.config_doc import render as render_configuration

    arch = ROOT / "docs" / "architecture.md"
    return {ROOT / "docs" / "configuration.md": render_configuration(),
            arch: render_architecture(arch.read_text(encoding="utf-8"))}


def sync() -> list[Path]:
    """Rewrite the generated pages that differ from the code; returns the ones rewritten."""
    changed = []
    for path, text in rendered_docs().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
