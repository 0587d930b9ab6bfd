"""One structured-output helper for every caller (docs/architecture.md, Contract 4).

pydantic schema → the backend's constrained/JSON mode when it has one → validate → on error,
retry with the validation message (bounded). Lives in tools/ so tools (script writer, LLM judge,
captioner) and the agent share it without tools importing agent/.
"""
from __future__ import annotations

import json
import re
import time
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tools.core.json_shape import example_object, required_fields, unwrap_echo
from tools.core.trace import NULL_TRACE, Trace

T = TypeVar("T", bound=BaseModel)


class StructuredOutputError(RuntimeError):
    """The model could not produce valid output within the retry budget."""


def extract_json(text: str) -> Any:
    """Parse the first JSON value in `text`, tolerating ``` fences and chatter around it."""
    text = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    if fence:
        text = fence.group(1).strip()
    try:  # strict=False: a raw newline inside a string is unambiguous, some servers emit it
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder(strict=False)
    for i, ch in enumerate(text):
        if ch in "{[":
            try:
                value, _ = decoder.raw_decode(text[i:])
                return value
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object found in the model output")


def _content(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


def _with_instruction(messages: list[Any], instruction: str) -> list[Any]:
    """Put the JSON instruction in the leading system turn.

    Chat templates (ChatML included) expect one system message first; a system turn appended
    after the user's message is dropped or rejected by some servers.
    """
    from langchain_core.messages import HumanMessage, SystemMessage

    msgs = [HumanMessage(content=m) if isinstance(m, str) else m for m in messages]
    if msgs and isinstance(msgs[0], SystemMessage) and isinstance(msgs[0].content, str):
        return [SystemMessage(content=msgs[0].content + "\n\n" + instruction)] + msgs[1:]
    return [SystemMessage(content=instruction)] + msgs


@lru_cache(maxsize=256)
def _schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    # Schema generation costs more than a fake or cached model call: build it once per model class.
    return schema.model_json_schema()


def json_instruction(json_schema: dict[str, Any]) -> str:
    """What the model is told: an example object with typed placeholders, not the raw schema (small models
    shown a schema answer with the schema)."""
    required = required_fields(json_schema)
    return ("Answer with a single JSON object only, no prose, shaped like this example "
            "(replace each <...> with a real value):\n" + example_object(json_schema)
            + (f"\nRequired fields: {', '.join(required)}." if required else ""))


def _validate(schema: type[T], json_schema: dict[str, Any], data: Any) -> T:
    """Validate; an answer that echoes the schema's shape around its values is read for the values."""
    try:
        return schema.model_validate(data)
    except ValidationError:
        unwrapped = unwrap_echo(data, json_schema)
        if unwrapped == data:
            raise
        try:
            return schema.model_validate(unwrapped)
        except ValidationError:
            pass
        raise


def invoke_structured(llm: Any, messages: list[Any], schema: type[T], *, retries: int = 2,
                      trace: Trace = NULL_TRACE, purpose: str = "") -> T:
    """Ask `llm` for an instance of `schema`. Backends exposing `invoke_json_schema` get constrained decoding.

    On invalid output the model sees its own answer and the validation message, then tries again
    (at most `retries` more times). Backend errors (endpoint down, missing model) propagate as-is.
    """
    from langchain_core.messages import AIMessage, HumanMessage

    json_schema = _schema_of(schema)
    instruction = json_instruction(json_schema)
    convo = _with_instruction(list(messages), instruction)
    last_error = ""
    for attempt in range(retries + 1):
        start = time.perf_counter()
        if hasattr(llm, "invoke_json_schema"):
            raw = llm.invoke_json_schema(convo, json_schema)
        else:
            raw = _content(llm.invoke(convo))
        try:
            value = _validate(schema, json_schema, extract_json(raw))
        except (ValueError, ValidationError) as exc:
            last_error = str(exc)[:800]
            # Decoded under a JSON grammar and still no JSON: the same grammar gives the same failure,
            # so no time is spent on attempts that cannot succeed.
            hopeless = not isinstance(exc, ValidationError) and getattr(llm, "guarantees_json", False)
            trace.event("llm.structured", purpose=purpose, schema=schema.__name__, attempt=attempt, ok=False,
                        error=last_error, seconds=round(time.perf_counter() - start, 3), retry=not hopeless)
            if hopeless:
                raise StructuredOutputError(f"{schema.__name__}: the grammar-constrained answer is not JSON "
                                            f"({last_error}): {str(raw)[:200]!r}") from exc
            convo = convo + [AIMessage(content=str(raw)[:2000]), HumanMessage(content=(
                f"Your previous answer was not valid: {last_error}\nReply again with only the corrected JSON object."
            ))]
            continue
        trace.event("llm.structured", purpose=purpose, schema=schema.__name__, attempt=attempt, ok=True,
                    seconds=round(time.perf_counter() - start, 3))
        return value
    raise StructuredOutputError(f"{schema.__name__}: no valid output after {retries + 1} attempts: {last_error}")
