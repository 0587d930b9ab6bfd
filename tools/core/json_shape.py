"""What a small model is shown of a JSON schema, and how its schema-shaped answers are read back.

Small instruct models (SmolLM2, Qwen 0.5-1.5B) shown a raw JSON schema often answer with the schema
itself, or with the values wrapped in its shape: `{"properties": {"relevance": {"type": "integer",
"value": 4}}}`. Two remedies, both schema-driven (no per-field rules):
- `example_object` renders the schema as one example object with typed placeholders
  (`{"relevance": <integer 1..5>, "issues": [<text>, ...]}`), which models copy the shape of;
- `unwrap_echo` takes the values out of an answer that echoes the schema's shape around them.
"""
from __future__ import annotations

import json
from typing import Any

_SCHEMA_WORDS = {"type", "title", "description", "properties", "required", "items", "minimum", "maximum",
                 "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems", "enum",
                 "const", "default", "examples", "example", "format", "pattern", "additionalProperties", "anyOf",
                 "oneOf", "allOf", "$ref", "$defs", "definitions", "$schema", "value"}
_VALUE_KEYS = ("value", "const", "default", "example")


def _resolver(schema: dict[str, Any]):
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}

    def resolve(node: Any, depth: int = 0) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and depth < 20:
            node = {**defs.get(node["$ref"].rsplit("/", 1)[-1], {}), **{k: v for k, v in node.items() if k != "$ref"}}
            depth += 1
        if isinstance(node, dict):
            for key in ("anyOf", "oneOf"):  # Optional[X] → X (the non-null branch)
                options = [o for o in node.get(key, []) if resolve(o, depth + 1).get("type") != "null"]
                if options and not node.get("type"):
                    return {**resolve(options[0], depth + 1), **{k: v for k, v in node.items() if k != key}}
        return node if isinstance(node, dict) else {}

    return resolve


def _placeholder(node: dict[str, Any], resolve, depth: int) -> str:
    node = resolve(node)
    if "const" in node:
        return json.dumps(node["const"], ensure_ascii=False)
    if "enum" in node:
        return "<one of " + " | ".join(json.dumps(v, ensure_ascii=False) for v in node["enum"]) + ">"
    kind = node.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in node:
        if depth > 4:
            return "{...}"
        fields = [f'"{name}": {_placeholder(sub, resolve, depth + 1)}'
                  for name, sub in (node.get("properties") or {}).items()]
        return "{" + ", ".join(fields) + "}"
    if kind == "array":
        item = _placeholder(node.get("items") or {}, resolve, depth + 1)
        return f"[{item}, ...]"
    if kind in ("integer", "number"):
        lo = node.get("minimum", node.get("exclusiveMinimum"))
        hi = node.get("maximum", node.get("exclusiveMaximum"))
        span = f" {lo:g}..{hi:g}" if lo is not None and hi is not None else ""
        return f"<{'integer' if kind == 'integer' else 'number'}{span}>"
    if kind == "boolean":
        return "<true or false>"
    about = str(node.get("description") or "").strip().split(". ")[0][:80]
    limit = f", at most {node['maxLength']} characters" if node.get("maxLength") else ""
    return f"<text{': ' + about if about else ''}{limit}>"


def example_object(schema: dict[str, Any]) -> str:
    """The schema as one example object with a typed placeholder per value (never the raw schema)."""
    return _placeholder(schema, _resolver(schema), 0)


def required_fields(schema: dict[str, Any]) -> list[str]:
    return list(_resolver(schema)(schema).get("required") or [])


def _value_of(answer: Any, node: dict[str, Any], resolve) -> Any:
    """`answer` for the schema `node`, taking values out of schema-shaped wrappers."""
    node = resolve(node)
    expects_object = node.get("type") == "object" or "properties" in node
    if isinstance(answer, dict) and not expects_object:
        for key in _VALUE_KEYS:  # {"type": "integer", "value": 4}
            if key in answer and not isinstance(answer[key], dict):
                return answer[key]
        if isinstance(answer.get("examples"), list) and answer["examples"]:
            return answer["examples"][0]
        extra = [k for k in answer if k not in _SCHEMA_WORDS]
        if len(extra) == 1:  # {"type": "integer", "score": 4}
            return answer[extra[0]]
        if isinstance(answer.get("enum"), list) and len(answer["enum"]) == 1:
            return answer["enum"][0]
        return answer
    if isinstance(answer, dict) and expects_object:
        props = node.get("properties") or {}
        inner = answer.get("properties")
        if isinstance(inner, dict) and "properties" not in props:  # {"type": "object", "properties": {...}}
            answer = {**{k: v for k, v in answer.items() if k in props}, **inner}
        elif len(answer) == 1 and not set(answer) & set(props):  # {"JudgeVerdict": {...}}
            only = next(iter(answer.values()))
            if isinstance(only, dict):
                answer = only.get("properties") if isinstance(only.get("properties"), dict) else only
        out = {}
        for key, value in answer.items():
            if key not in props:
                if key not in _SCHEMA_WORDS:  # "type", "required", "title" at this level are the echo
                    out[key] = value
                continue
            value = _value_of(value, props[key], resolve)
            if not (isinstance(value, dict) and value and set(value) <= _SCHEMA_WORDS and "type" in value):
                out[key] = value  # a bare schema with no value in it is left out: its default applies
        return out
    if isinstance(answer, list) and node.get("type") == "array":
        return [_value_of(v, node.get("items") or {}, resolve) for v in answer]
    return answer


def unwrap_echo(answer: Any, schema: dict[str, Any]) -> Any:
    """The answer with the schema's echoed shape removed (values kept); other answers come back unchanged."""
    return _value_of(answer, schema, _resolver(schema))
