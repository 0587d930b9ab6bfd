"""A capable model routes freely: it reads the job catalogue and picks a job, or composes its own plan.

Used when `agent.routing` is `model`, or `auto` with an OpenAI-compatible backend or a local model
of the user's own (the embedded 135M model is never asked: the rules route for it). The rules'
route is shown to the model as a hint, not imposed; an answer that cannot be parsed keeps it.
"""
from __future__ import annotations

from typing import Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, create_model

from agent.planning.routing.router import Route
from agent.prompts import prompt
from tools.core.structured_output import StructuredOutputError, invoke_structured
from workflows import Workflow

FREE = "own_plan"  # the model composes a plan over the tools itself


def model_routes(settings) -> bool:
    mode = settings.agent.routing
    if mode != "auto":
        return mode == "model"
    return settings.llm.backend == "openai" or (settings.llm.backend == "local"
                                                 and settings.llm.local.model_path is not None)


def _choice_schema(names: list[str]) -> type[BaseModel]:
    return create_model("JobChoice", __config__=ConfigDict(extra="forbid"),
                        job=(Literal[tuple([*names, FREE])], Field(description="the job that does this request")),  # type: ignore[valid-type]
                        reason=(str, Field("", max_length=200, description="why, in one sentence")))


def catalogue(workflows: dict[str, Workflow]) -> str:
    lines = []
    for wf in workflows.values():
        needs = " (needs a film)" if wf.needs_film else ""
        lines.append(f"- {wf.name}{needs}: {' '.join(wf.description.split())}")
    lines.append(f"- {FREE}: none of these fits; compose a plan from the individual tools")
    return "\n".join(lines)


def route_with_model(rt, request: str, rules: Route, film_given: bool, inputs: list[str]) -> Route:
    names = list(rt.workflows)
    msg = prompt("route", request=request, film="yes" if film_given else "no",
                 inputs=", ".join(inputs) or "none", jobs=catalogue(rt.workflows),
                 hint=rules.workflow or FREE)
    try:
        choice = invoke_structured(rt.llm, [SystemMessage(content=prompt("system")), HumanMessage(content=msg)],
                                   _choice_schema(names), retries=rt.settings.llm.structured_retries,
                                   trace=rt.trace, purpose="route")
    except StructuredOutputError as exc:
        rt.trace.event("route.model_failed", error=str(exc)[:300], kept=rules.workflow)
        return rules
    workflow = None if choice.job == FREE else choice.job
    why = [f"model: {choice.reason}" if choice.reason else "model"]
    if workflow != rules.workflow:
        why.append(f"the rules said {rules.workflow or FREE}")
    agrees = workflow == rules.workflow  # the model confirms the rules: their second deliverable stands
    return Route(workflow, rules.score, rules.ranking, why, "model", rules.signals, rules.candidates,
                 jobs=rules.jobs if agrees else ([workflow] if workflow else []), close=rules.close if agrees else None)
