"""JSON-schema preparation for grammar-constrained decoding.

A grammar makes every token sequence the model can emit parse against the schema, but an
unbounded `string` or `array` lets a tiny model ramble until max_tokens cuts the JSON in half.
`prepare_schema` inlines `$ref`s (pydantic emits `$defs` for nested models) and bounds every
string and array that the caller left unbounded, so a constrained answer is short *and* complete.
"""
from __future__ import annotations

import copy
import re
from typing import Any

DEFAULT_MAX_STRING = 300
DEFAULT_MAX_ITEMS = 8
# Keys that only document a schema; they cost prompt tokens and mean nothing to a grammar.
_DOC_KEYS = {"title", "description", "examples", "default"}


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace local `#/$defs/...` references by their definitions (non-recursive schemas)."""
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}

    def resolve(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                name = ref.rsplit("/", 1)[-1]
                if name in seen:
                    raise ValueError(f"recursive schema reference {ref!r} cannot be turned into a grammar")
                if name not in defs:
                    raise ValueError(f"schema reference {ref!r} has no definition")
                merged = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
                return resolve(merged, seen + (name,))
            return {k: resolve(v, seen) for k, v in node.items() if k not in ("$defs", "definitions")}
        if isinstance(node, list):
            return [resolve(v, seen) for v in node]
        return node

    return resolve(copy.deepcopy(schema), ())


def bound_schema(schema: dict[str, Any], max_string: int = DEFAULT_MAX_STRING,
                 max_items: int = DEFAULT_MAX_ITEMS) -> dict[str, Any]:
    """Give unbounded strings a maxLength and unbounded arrays a maxItems; close open objects."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items()}
        types = out.get("type")
        types = types if isinstance(types, list) else [types]
        if "string" in types and "enum" not in out and "const" not in out and "format" not in out \
                and "pattern" not in out:
            out["maxLength"] = min(int(out.get("maxLength", max_string)), max_string)
        if "integer" in types and "enum" not in out and isinstance(out.get("minimum"), int) \
                and isinstance(out.get("maximum"), int) and 0 <= out["maximum"] - out["minimum"] <= 20:
            # llama.cpp's schema converter ignores minimum/maximum; a small range as an enum is enforced.
            out["enum"] = list(range(out["minimum"], out["maximum"] + 1))
        if "array" in types:
            out["maxItems"] = min(int(out.get("maxItems", max_items)), max(max_items, int(out.get("minItems", 0))))
        if "object" in types and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out

    return walk(schema)


def strip_docs(schema: Any) -> Any:
    """The schema without titles/descriptions (compact enough to show a small model in its prompt)."""
    if isinstance(schema, list):
        return [strip_docs(v) for v in schema]
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                out[key] = {name: strip_docs(sub) for name, sub in value.items()}  # keep field names
            elif key not in _DOC_KEYS:
                out[key] = strip_docs(value)
        return out
    return schema


def prepare_schema(schema: dict[str, Any], max_string: int = DEFAULT_MAX_STRING,
                   max_items: int = DEFAULT_MAX_ITEMS) -> dict[str, Any]:
    """Inline refs and bound lengths: the schema a grammar is built from."""
    return bound_schema(inline_refs(schema), max_string, max_items)


# JSON forbids raw control characters inside strings (RFC 8259 §7); llama-cpp-python's converter
# writes `char ::= [^"\\] | ...`, which lets a model emit a raw newline inside a string: the
# "constrained" answer then fails to parse ("Invalid control character"). llama.cpp's own converter
# excludes them; we patch the rule the same way.
_CHAR_RULE = re.compile(r'^char ::= \[\^"\\\\\](.*)$', re.MULTILINE)
_STRICT_CHAR = r'char ::= [^"\\\x7F\x00-\x1F]'


def json_grammar(schema: dict[str, Any]) -> str:
    """GBNF for a bounded schema whose every output is strict JSON (no raw control characters)."""
    import json

    from llama_cpp.llama_grammar import json_schema_to_gbnf

    gbnf = json_schema_to_gbnf(json.dumps(schema))
    return _CHAR_RULE.sub(lambda m: _STRICT_CHAR + m.group(1), gbnf)


def schema_name(schema: dict[str, Any], fallback: str = "response") -> str:
    """A name OpenAI's response_format accepts (^[a-zA-Z0-9_-]{1,64}$)."""
    name = re.sub(r"[^a-zA-Z0-9_-]+", "_", str(schema.get("title") or fallback)).strip("_")
    return (name or fallback)[:64]


def max_json_tokens(schema: dict[str, Any]) -> int:
    """An upper estimate of the tokens of the longest JSON a *bounded* schema admits.

    Used as max_tokens for grammar-constrained calls so the cut-off never lands inside the JSON
    (every token is at least one character; strings count a token per allowed character).
    """

    def size(node: Any) -> int:
        if not isinstance(node, dict):
            return 8
        for key in ("anyOf", "oneOf"):
            if key in node:
                return max(size(n) for n in node[key])
        if "const" in node or "enum" in node:
            values = [node["const"]] if "const" in node else node["enum"]
            return max(len(str(v)) for v in values) + 2
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        best = 0
        if "object" in types or "properties" in node:
            props = node.get("properties", {})
            best = max(best, 2 + sum(len(name) + 4 + size(sub) for name, sub in props.items()))
        if "array" in types:
            best = max(best, 2 + int(node.get("maxItems", DEFAULT_MAX_ITEMS)) * (size(node.get("items", {})) + 2))
        if "string" in types:
            best = max(best, int(node.get("maxLength", DEFAULT_MAX_STRING)) + 2)
        if "number" in types or "integer" in types:
            best = max(best, 24)
        return best or 8

    return size(schema) + 8
