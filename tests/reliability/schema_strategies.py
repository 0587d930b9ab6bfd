"""Hypothesis strategies from a tool's JSON schema (the pydantic schema the registry publishes).

Mostly values the schema allows, mixed with what a confused model or a hostile user sends: NaN and
huge numbers, negative sizes, control characters, override tags, shell metacharacters, paths that
climb out of the workspace, unknown keys. (hypothesis-jsonschema was tried first; its 0.23 release
fails on this Hypothesis version with "'many' object has no attribute 'more'".)
"""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

HOSTILE_TEXT = ["", " ", "..", "../../../../etc/passwd", "/etc/passwd", "~/.ssh/id_rsa", "a\x00b", "line\nbreak",
                "{\\pos(0,0)}tag", "<font color=red>x</font>", "$(touch /tmp/pwned)", "; rm -rf /", "`id`", "%s%n",
                "名前 with ünïcode", "x" * 5000, "-i", "--help", "file:/etc/hosts", "pipe:1", "concat:a|b"]
HOSTILE_NUMBERS = [float("nan"), float("inf"), -float("inf"), -1.0, 0.0, 1e-9, 1e12, -1e12, 2**63]
TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000, exclude_categories=("Cs",)),
               max_size=40)


def strategy(schema: dict[str, Any], *, paths: list[str], path_keys: set[str], overrides: dict | None = None
             ) -> st.SearchStrategy[Any]:
    """Arguments for a tool: `paths` are sampled for the keys in `path_keys`; `overrides` maps a
    top-level key to a strategy (for arguments whose valid values are expensive, e.g. a film length)."""
    defs = schema.get("$defs", {})
    return _object(schema, defs, paths, path_keys, overrides or {}, depth=0, top=True)


def _node(node: dict[str, Any], defs: dict, paths: list[str], depth: int, key: str = "") -> st.SearchStrategy[Any]:
    if depth > 5:
        return st.none()
    if "$ref" in node:
        return _node(defs[node["$ref"].split("/")[-1]], defs, paths, depth + 1, key)
    for combo in ("anyOf", "oneOf", "allOf"):
        if combo in node:
            return st.one_of([_node(sub, defs, paths, depth + 1, key) for sub in node[combo]])
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.one_of(st.sampled_from(node["enum"]), st.sampled_from(HOSTILE_TEXT[:6]))
    kind = node.get("type")
    if node.get("format") == "path" or key in ("source", "path", "film", "video", "image", "audio", "subtitles"):
        return st.sampled_from(paths + HOSTILE_TEXT[:8])
    if kind == "object":
        return _object(node, defs, paths, set(), {}, depth + 1)
    if kind == "array":
        return st.lists(_node(node.get("items", {}), defs, paths, depth + 1), max_size=3)
    if kind == "string":
        return st.one_of(TEXT, st.sampled_from(HOSTILE_TEXT))
    if kind == "integer":
        lo, hi = node.get("minimum", -10), node.get("maximum", 10_000)
        return st.one_of(st.integers(lo, hi), st.sampled_from([-1, 0, 2**31, -(2**63), 10**12]))
    if kind == "number":
        lo = node.get("minimum", node.get("exclusiveMinimum", -100.0))
        hi = node.get("maximum", node.get("exclusiveMaximum", 100.0))
        return st.one_of(st.floats(lo, hi, allow_nan=False), st.sampled_from(HOSTILE_NUMBERS))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    return st.one_of(st.none(), st.booleans(), TEXT, st.floats(allow_nan=True))


def _object(node: dict, defs: dict, paths: list[str], path_keys: set[str], overrides: dict, depth: int,
            top: bool = False) -> st.SearchStrategy[dict]:
    props = node.get("properties", {})
    required = set(node.get("required", []))

    def value(k: str, sub: dict) -> st.SearchStrategy[Any]:
        if k in overrides:
            return overrides[k]
        if k in path_keys:
            return st.sampled_from(paths + HOSTILE_TEXT[:8])
        return _node(sub, defs, paths, depth + 1, k)

    base = st.fixed_dictionaries({k: value(k, v) for k, v in props.items() if k in required},
                                 optional={k: value(k, v) for k, v in props.items() if k not in required})
    if not top:
        return base
    extra = st.dictionaries(st.sampled_from(["bogus", "__class__", "shell"]), TEXT, max_size=1)
    return st.one_of(base, st.tuples(base, extra).map(lambda pair: {**pair[0], **pair[1]}))
