"""ReAct: one reason→act→observe turn per graph step. Native tool calls when the backend has them
(OpenAI-compatible servers), otherwise a JSON action constrained to the registered tool names."""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel, ConfigDict, Field, create_model

from agent.nodes.common import tool_lines
from agent.prompts import prompt
from agent.runtime import Runtime
from agent.state import StepResult
from tools.core.findings import messages
from tools.core.registry import invoke
from tools.core.structured_output import StructuredOutputError, invoke_structured


@lru_cache(maxsize=32)
def _action_schema(names: tuple[str, ...]) -> type[BaseModel]:
    return create_model(
        "ReactAction", __config__=ConfigDict(extra="forbid"),
        thought=(str, Field(description="one short sentence of reasoning", max_length=200)),
        action=(Literal[names + ("finish",)], ...),  # type: ignore[valid-type]
        args=(dict[str, Any], Field(default_factory=dict)),
        answer=(str | None, Field(default=None, max_length=800)),
    )


def _observations(state: dict) -> str:
    lines = []
    for sid, res in sorted((state.get("step_results") or {}).items()):
        if sid.startswith("react_"):
            obs = res.get("summary") if res.get("ok") else f"ERROR: {res.get('error')}"
            lines.append(f"{sid} {res.get('tool')}: {obs}")
    return "\n".join(lines) or "(none yet)"


def _record(state: dict, n: int, tool: str, args: dict, outcome) -> dict:
    result = StepResult(step_id=f"react_{n}", tool=tool, ok=outcome.ok, summary=outcome.summary,
                        result=outcome.result, error=outcome.error, error_kind=outcome.error_kind,
                        hint=outcome.hint, seconds=outcome.seconds, iteration=state.get("iteration", 0),
                        artifacts=[a.model_dump(mode="json") for a in outcome.artifacts])
    return {"step_results": {result.step_id: result.model_dump(mode="json")}, "artifacts": result.artifacts}


def react_step(state: dict, rt: Runtime) -> dict:
    n = int(state.get("react_steps") or 0) + 1
    if n > rt.settings.agent.react_max_steps:
        rt.trace.event("react.cap", steps=n - 1)
        return {"status": "react_done", "react_steps": n - 1}
    tools = rt.router.relevant_tools(state["request"], k=8)
    if rt.native_tool_calls:
        return _native_turn(state, rt, n, tools)
    schema = _action_schema(tuple(t.name for t in tools))
    msg = prompt("react", request=state["request"], tools=tool_lines(tools), observations=_observations(state))
    if state.get("feedback"):
        msg += "\nFeedback from the last evaluation: " + "; ".join(messages(state["feedback"]))[:500]
    try:
        action = invoke_structured(rt.llm, [SystemMessage(content=prompt("system")), HumanMessage(content=msg)],
                                   schema, retries=rt.settings.llm.structured_retries, trace=rt.trace,
                                   purpose="react")
    except StructuredOutputError as exc:
        rt.trace.event("react.invalid", error=str(exc)[:300])
        return {"status": "react_done", "react_steps": n}
    rt.trace.event("react.action", step=n, thought=action.thought, action=action.action, args=action.args)
    if action.action == "finish":
        update = {"status": "react_done", "react_steps": n}
        if action.answer:
            update["final_answer"] = action.answer
        return update
    outcome = invoke(action.action, action.args, rt.ctx)
    return {**_record(state, n, action.action, action.args, outcome), "react_steps": n}


def _native_turn(state: dict, rt: Runtime, n: int, tools) -> dict:
    """Tool calling through the backend's own function-calling API; arguments still validated by the registry."""
    history = [SystemMessage(content=prompt("system")), HumanMessage(content=state["request"])]
    for sid, res in sorted((state.get("step_results") or {}).items()):
        if sid.startswith("react_"):
            call_id = f"call_{sid}"
            history.append(AIMessage(content="", tool_calls=[{"name": res["tool"], "args": res.get("args") or {},
                                                             "id": call_id}]))
            obs = res.get("summary") if res.get("ok") else f"ERROR: {res.get('error')}"
            history.append(ToolMessage(content=obs or "", tool_call_id=call_id))
    bound = rt.llm.bind_tools([t.schema() for t in tools])
    reply = bound.invoke(history)
    calls = getattr(reply, "tool_calls", None) or []
    if not calls:
        content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
        return {"status": "react_done", "react_steps": n, "final_answer": content}
    call = calls[0]
    rt.trace.event("react.action", step=n, action=call["name"], args=call.get("args"), native=True)
    outcome = invoke(call["name"], call.get("args") or {}, rt.ctx)
    update = _record(state, n, call["name"], call.get("args") or {}, outcome)
    update["step_results"][f"react_{n}"]["args"] = call.get("args") or {}
    return {**update, "react_steps": n}
