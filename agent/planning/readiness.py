"""Honest refusals: a plan whose tools need a model that is not configured stops before running.

The plan is still the right one (plan.json shows the job and its tool); the run ends with one
answer naming the setting(s) to fill and what the user can do now instead: other jobs whose tools
are ready, never a different job run in its place.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from tools.core.registry import get_tool
from tools.core.types import ToolError, Unmet
from workflows import Plan, Workflow


class Refusal(BaseModel):
    workflow: str | None = None
    step: str
    tool: str
    unmet: list[Unmet]
    alternatives: list[str] = Field(default_factory=list)  # requests the user can make now

    def settings(self) -> list[str]:
        return list(dict.fromkeys(u.setting for u in self.unmet if u.setting))

    def answer(self, job: str) -> str:
        lines = [f"I planned this as {job} ({self.tool}), but it cannot run here yet:"]
        for u in self.unmet:
            fix = u.fix.replace(u.setting, f"`{u.setting}`") if u.setting and u.setting in u.fix \
                else (f"set `{u.setting}`: {u.fix}" if u.setting else u.fix)
            lines.append(f"- {u.problem[:1].upper()}{u.problem[1:]}: {fix}.")
        if self.settings():
            env = ", ".join("ANIMSTUDIO_" + s.upper().replace(".", "__") for s in self.settings())
            lines.append(f"Put it in your config file (--config) or the environment ({env}), then ask again: "
                         "the plan is saved in plan.json.")
        if self.alternatives:
            lines.append("What you can do now:")
            lines += [f"- {a}" for a in self.alternatives]
        return "\n".join(lines)


def step_unmet(tool: str, args: dict[str, Any], settings: Any) -> list[Unmet]:
    try:
        return get_tool(tool).unmet(settings, args)
    except ToolError:
        return []  # an unknown tool is the static checks' business, not a missing model


def workflow_ready(wf: Workflow, settings: Any) -> bool:
    return all(not step_unmet(s.tool, s.args, settings) for s in wf.steps)


def alternatives(wf: Workflow | None, workflows: dict[str, Workflow], settings: Any, film_given: bool) -> list[str]:
    out = []
    for alt in (wf.alternatives if wf else []):
        other = workflows.get(alt.workflow)
        if other is None or not workflow_ready(other, settings):
            continue
        needs = " (give the film with --film)" if other.needs_film and not film_given else ""
        out.append(alt.say + needs)
    return out


def preflight(plan: Plan, workflows: dict[str, Workflow], settings: Any, film_given: bool) -> Refusal | None:
    """The first step whose tool needs something missing, with everything missing for it."""
    for step in plan.steps:
        unmet = step_unmet(step.tool, step.args, settings)
        if unmet:
            wf = workflows.get(plan.workflow or "")
            return Refusal(workflow=plan.workflow, step=step.id, tool=step.tool, unmet=unmet,
                           alternatives=alternatives(wf, workflows, settings, film_given))
    return None
