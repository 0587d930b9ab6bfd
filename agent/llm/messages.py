"""Conversions between langchain-core messages and the Chat Completions wire format.

Shared by the openai backend (sent over HTTP) and the local backend (llama-cpp-python speaks
the same dict format), so both treat system/user/assistant/tool turns and tool calls alike.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.tool import invalid_tool_call, tool_call, tool_call_chunk


def text_of(content: Any) -> str:
    """Plain text of a message content (a string or a list of content parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") in (None, "text"):
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    return "" if content is None else str(content)


def coerce_messages(messages: Any) -> list[BaseMessage]:
    """Accept a string, a list of BaseMessages, (role, text) pairs or role dicts."""
    if isinstance(messages, str):
        return [HumanMessage(content=messages)]
    out: list[BaseMessage] = []
    roles = {"system": SystemMessage, "user": HumanMessage, "human": HumanMessage,
             "assistant": AIMessage, "ai": AIMessage}
    for m in messages:
        if isinstance(m, BaseMessage):
            out.append(m)
        elif isinstance(m, tuple) and len(m) == 2:
            out.append(roles.get(m[0], HumanMessage)(content=m[1]))
        elif isinstance(m, dict) and "role" in m:
            out.append(roles.get(m["role"], HumanMessage)(content=m.get("content", "")))
        else:
            out.append(HumanMessage(content=str(m)))
    return out


def to_wire(messages: Sequence[BaseMessage], *, text_only: bool = False) -> list[dict[str, Any]]:
    """langchain messages → Chat Completions `messages` (text_only flattens multimodal parts)."""
    wire: list[dict[str, Any]] = []
    for m in messages:
        content = text_of(m.content) if text_only or not isinstance(m.content, list) else m.content
        if isinstance(m, SystemMessage):
            wire.append({"role": "system", "content": content})
        elif isinstance(m, HumanMessage):
            wire.append({"role": "user", "content": content})
        elif isinstance(m, AIMessage):
            item: dict[str, Any] = {"role": "assistant", "content": content or ""}
            if m.tool_calls:
                item["tool_calls"] = [
                    {"id": tc.get("id") or _new_id(), "type": "function",
                     "function": {"name": tc["name"], "arguments": json.dumps(tc["args"], ensure_ascii=False)}}
                    for tc in m.tool_calls
                ]
            wire.append(item)
        elif isinstance(m, ToolMessage):
            wire.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": text_of(m.content)})
        elif isinstance(m, ChatMessage):
            wire.append({"role": m.role, "content": content})
        else:
            wire.append({"role": "user", "content": content})
    return wire


def merge_system(wire: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One leading system turn: many chat templates (ChatML included) expect exactly that."""
    systems = [m["content"] for m in wire if m["role"] == "system" and isinstance(m["content"], str)]
    rest = [m for m in wire if not (m["role"] == "system" and isinstance(m["content"], str))]
    return ([{"role": "system", "content": "\n\n".join(systems)}] if systems else []) + rest


def _new_id() -> str:
    return "call_" + uuid.uuid4().hex[:20]


def parse_tool_calls(raw_calls: list[dict[str, Any]] | None) -> tuple[list, list]:
    """Wire `tool_calls` → (valid ToolCalls, InvalidToolCalls with the parse error)."""
    valid, invalid = [], []
    for raw in raw_calls or []:
        fn = raw.get("function") or {}
        name, args, call_id = fn.get("name"), fn.get("arguments"), raw.get("id") or _new_id()
        try:
            parsed = args if isinstance(args, dict) else json.loads(args or "{}")
            if not isinstance(parsed, dict):
                raise ValueError("tool arguments must be a JSON object")
            valid.append(tool_call(name=name or "", args=parsed, id=call_id))
        except (ValueError, TypeError) as exc:
            invalid.append(invalid_tool_call(name=name, args=args if isinstance(args, str) else None,
                                             id=call_id, error=f"arguments are not valid JSON: {exc}"))
    return valid, invalid


def usage_metadata(usage: dict[str, Any] | None) -> dict[str, int] | None:
    if not usage:
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    return {"input_tokens": prompt, "output_tokens": completion,
            "total_tokens": int(usage.get("total_tokens") or prompt + completion)}


def message_from_wire(message: dict[str, Any], usage: dict[str, Any] | None = None,
                      finish_reason: str | None = None) -> AIMessage:
    """A Chat Completions `choices[0].message` → AIMessage (tool calls parsed, usage attached)."""
    valid, invalid = parse_tool_calls(message.get("tool_calls"))
    return AIMessage(
        content=text_of(message.get("content")),
        tool_calls=valid,
        invalid_tool_calls=invalid,
        usage_metadata=usage_metadata(usage),
        response_metadata={"finish_reason": finish_reason} if finish_reason else {},
    )


def chunk_from_delta(delta: dict[str, Any], finish_reason: str | None = None) -> AIMessageChunk:
    """A streamed `choices[0].delta` → AIMessageChunk (tool-call fragments become chunks)."""
    chunks = []
    for raw in delta.get("tool_calls") or []:
        fn = raw.get("function") or {}
        chunks.append(tool_call_chunk(name=fn.get("name"), args=fn.get("arguments"), id=raw.get("id"),
                                      index=raw.get("index")))
    return AIMessageChunk(content=text_of(delta.get("content")), tool_call_chunks=chunks,
                          response_metadata={"finish_reason": finish_reason} if finish_reason else {})
