"""The LangGraph state machine (docs/architecture.md, Contract 3).

understand → retrieve ∥ web → plan → execute ⟲ (one step per graph step; → review, a pause for a
person, after the workflow's review points when agent.review is on) → evaluate → reflect → execute …
or finish. When the request leaves out what its job needs, plan → ask (the same pause: the run waits
for the answer, status needs_input) → plan again with the answer. Our own iteration cap (agent.max_iterations) stops the loop;
LangGraph's recursion limit is only a backstop.
"""
from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from agent.nodes.ask import ask
from agent.nodes.evaluate import evaluate, route_after_evaluate
from agent.nodes.execute import execute, more_to_run
from agent.nodes.finish import finish
from agent.nodes.plan import after_plan, plan
from agent.nodes.reflect import reflect, route_after_reflect
from agent.nodes.retrieve import retrieve
from agent.nodes.review import due_point, review, route_after_review
from agent.nodes.understand import understand
from agent.nodes.web import wants_web, web
from agent.runtime import Runtime
from agent.state import AgentState


def recursion_limit(rt: Runtime, n_steps_hint: int = 40) -> int:
    # Each plan step is one graph step; bound generously by plan size × iterations.
    return 20 + (n_steps_hint + rt.settings.agent.react_max_steps + 6) * (rt.settings.agent.max_iterations + 1)


def after_execute(state: dict, rt: Runtime) -> str:
    if due_point(state, rt) is not None:
        return "review"  # a person approves, edits or rejects the step's result first
    if state.get("status") == "no_progress":
        return "finish"  # a repair reproduced the previous output (agent/nodes/converge.py)
    return "execute" if more_to_run(state) else "evaluate"


def build_graph(rt: Runtime, checkpointer: Any = None, *, interrupt_before: list[str] | None = None):
    """The compiled graph; `interrupt_before` stops a run before those nodes (a dry run stops before execute)."""
    g = StateGraph(AgentState)
    for name, fn in (("understand", understand), ("retrieve", retrieve), ("web", web), ("plan", plan), ("ask", ask),
                     ("execute", execute), ("review", review), ("evaluate", evaluate), ("reflect", reflect),
                     ("finish", finish)):
        g.add_node(name, lambda state, _fn=fn: _fn(state, rt))
    g.add_edge(START, "understand")
    g.add_conditional_edges("understand", lambda s: ["retrieve", "web"] if wants_web(s, rt) else ["retrieve"],
                            ["retrieve", "web"])
    g.add_edge("retrieve", "plan")
    g.add_edge("web", "plan")
    g.add_conditional_edges("plan", after_plan, ["execute", "ask", "finish"])  # refused: straight to the answer
    g.add_edge("ask", "plan")  # the answer fills what was missing; plan again
    g.add_conditional_edges("execute", lambda s: after_execute(s, rt), ["review", "execute", "evaluate", "finish"])
    g.add_conditional_edges("review", route_after_review, ["execute", "evaluate", "finish"])
    g.add_conditional_edges("evaluate", lambda s: route_after_evaluate(s, rt), ["finish", "reflect"])
    g.add_conditional_edges("reflect", route_after_reflect, ["execute", "finish"])
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer, interrupt_before=interrupt_before)
