"""A plan the model composes over the tools itself (no job fits), its static checks, and ToT's plan critic."""
from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agent.nodes.common import evidence_text, tool_lines
from agent.prompts import prompt
from agent.runtime import Runtime
from tools.core.registry import ToolSpec
from tools.core.structured_output import StructuredOutputError, invoke_structured
from workflows import Plan, WorkflowError
from workflows.plan import argument_errors


def _free_plan_schema(tools: list[ToolSpec]) -> type[BaseModel]:
    names = tuple(t.name for t in tools) or ("list_media",)
    step = create_model(
        "PlannedStep", __config__=ConfigDict(extra="forbid"),
        id=(str, Field(description="short step id", max_length=32)),
        tool=(Literal[names], ...),  # type: ignore[valid-type]
        args=(dict[str, Any], Field(default_factory=dict)),
        depends_on=(list[str], Field(default_factory=list, max_length=6)),
    )
    return create_model("FreePlan", __config__=ConfigDict(extra="forbid"),
                        steps=(list[step], Field(default_factory=list, max_length=6)))  # type: ignore[valid-type]


def static_errors(plan: Plan) -> list[str]:
    """Argument problems of every step visible before running (workflows.plan.argument_errors)."""
    return [f"{step.id}: {error}" for step in plan.steps for error in argument_errors(step)]


def free_plan(rt: Runtime, state: dict, reasoning: str = "") -> Plan:
    """Let the model compose a plan over the most relevant tools; invalid plans are retried once."""
    tools = rt.router.relevant_tools(state["request"], k=8)
    schema = _free_plan_schema(tools)
    msg = prompt("free_plan", request=state["request"], reasoning=reasoning or "(none)", tools=tool_lines(tools),
                 evidence=evidence_text(state.get("evidence") or [], 3, 250))
    convo = [SystemMessage(content=prompt("system")), HumanMessage(content=msg)]
    for attempt in range(2):
        try:
            raw = invoke_structured(rt.llm, convo, schema, retries=rt.settings.llm.structured_retries,
                                    trace=rt.trace, purpose="free_plan")
            plan = Plan(goal=state["request"], steps=[s.model_dump() for s in raw.steps])
        except (StructuredOutputError, ValidationError, WorkflowError) as exc:
            rt.trace.event("plan.free_invalid", attempt=attempt, error=str(exc)[:300])
            convo = convo + [HumanMessage(content=f"That plan was invalid: {str(exc)[:300]}. Try again.")]
            continue
        errors = static_errors(plan)
        if not errors:
            return plan
        rt.trace.event("plan.free_invalid", attempt=attempt, error="; ".join(errors)[:300])
        convo = convo + [HumanMessage(content="Fix these problems: " + "; ".join(errors))]
    return Plan(goal=state["request"], reasoning="no valid tool plan; answering from knowledge")


def score_plan(rt: Runtime, plan: Plan, state: dict, route_similarity: float) -> tuple[float, list[str]]:
    """A cheap, deterministic plan critic used by ToT: validity, coverage of the intent, routing fit."""
    reasons = []
    errors = static_errors(plan)
    validity = 1.0 if not errors else max(0.0, 1.0 - 0.25 * len(errors))
    if errors:
        reasons.append("argument problems: " + "; ".join(errors)[:200])
    intent = state.get("intent") or {}
    subtasks = [s.get("description", "") for s in intent.get("subtasks") or [] if s.get("description")]
    coverage = 1.0
    if subtasks and plan.steps and rt.router.embedder is not None:
        sub = rt.router.embedder.encode(subtasks)
        steps = rt.router.embedder.encode([f"{s.tool} {s.description}" for s in plan.steps])
        coverage = float((sub @ steps.T).max(axis=1).mean())
        reasons.append(f"covers intent subtasks at {coverage:.2f}")
    if not plan.steps:
        validity *= 0.5 if intent.get("task") not in ("question", "other") else 1.0
        reasons.append("no tool steps")
    film_fit = 1.0
    if state.get("film") and plan.workflow:
        needs = rt.workflows[plan.workflow].needs_film
        film_fit = 1.0 if needs else 0.8
    score = round(0.5 * validity + 0.25 * max(0.0, min(1.0, coverage)) + 0.25 * max(0.0, route_similarity) * film_fit, 4)
    return score, reasons
