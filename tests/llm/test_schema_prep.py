"""Schema preparation for grammars: refs inlined, strings/arrays bounded, token budget covers them."""
from __future__ import annotations

import json
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from agent.llm.schema import inline_refs, max_json_tokens, prepare_schema, schema_name, strip_docs


class Beat(BaseModel):
    line: str
    speaker: Literal["Luca", "Alberto"]


class Script(BaseModel):
    title: str = Field(description="short title")
    beats: list[Beat]
    notes: list[str] = Field(default_factory=list, max_length=2)


def test_refs_are_inlined_and_bounds_added():
    schema = prepare_schema(Script.model_json_schema(), max_string=20, max_items=4)
    text = json.dumps(schema)
    assert "$ref" not in text and "$defs" not in text
    beat = schema["properties"]["beats"]["items"]
    assert beat["properties"]["line"]["maxLength"] == 20
    assert "maxLength" not in beat["properties"]["speaker"]  # enums are already bounded
    assert schema["properties"]["beats"]["maxItems"] == 4
    assert schema["properties"]["notes"]["maxItems"] == 2  # a tighter caller bound is kept
    assert beat["additionalProperties"] is False


def test_recursive_schema_is_refused():
    recursive = {"$defs": {"N": {"type": "object", "properties": {"child": {"$ref": "#/$defs/N"}}}},
                 "$ref": "#/$defs/N"}
    with pytest.raises(ValueError, match="recursive"):
        inline_refs(recursive)


def test_token_budget_covers_the_longest_admitted_json():
    schema = prepare_schema(Script.model_json_schema(), max_string=20, max_items=4)
    longest = {"title": "x" * 20, "beats": [{"line": "y" * 20, "speaker": "Alberto"}] * 4, "notes": ["z" * 20] * 2}
    assert len(json.dumps(longest)) <= max_json_tokens(schema)


def test_strip_docs_keeps_field_names_called_title():
    stripped = strip_docs(Script.model_json_schema())
    assert "title" in stripped["properties"] and "description" not in stripped["properties"]["title"]
    assert "title" not in stripped


def test_schema_name_is_openai_safe():
    assert schema_name({"title": "Parody plan (v2)!"}) == "Parody_plan_v2"
    assert schema_name({}) == "response"
