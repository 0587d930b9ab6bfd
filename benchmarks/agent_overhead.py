"""Per-step overhead of the agent graph vs a bare LangGraph ReAct loop, same fake model and tool.

Both loops checkpoint every step to SQLite, show the model the observations so far, call the same
registered tool through the registry, and the model answers the same action each step. Per-step cost = (t(N2) - t(N1)) / (N2 - N1), so
one-time set-up (runtime, router, knowledge base) is excluded from both.
"""
from __future__ import annotations

import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain_core.messages import HumanMessage  # noqa: E402
from langgraph.checkpoint.sqlite import SqliteSaver  # noqa: E402
from langgraph.graph import END, START, StateGraph  # noqa: E402
from typing_extensions import TypedDict  # noqa: E402

from agent import Agent  # noqa: E402
from agent.llm import FakeChatModel  # noqa: E402
from tools.core.context import make_context  # noqa: E402
from tools.core.registry import invoke, tool  # noqa: E402
from tools.core.settings import settings_from_dict  # noqa: E402
from tools.core.workspace import Workspace  # noqa: E402

ACTION = {"thought": "keep going", "action": "bench_noop", "args": {"n": 1}}


@tool(family="bench")
def bench_noop(ctx, n: int = 1) -> dict:
    """Return its input (a tool with no cost of its own).

    Args:
        n: Any number.
    """
    return {"n": n}


def handler(steps: int):
    count = {"react": 0}

    def answer(call):
        if call.schema_title == "Intent":
            return {"goal": "bench", "task": "other"}
        if call.schema_title == "ReactAction":
            count["react"] += 1
            return ACTION if count["react"] <= steps else {"thought": "done", "action": "finish", "args": {},
                                                           "answer": "done"}
        if call.schema_title == "FreePlan":
            return {"steps": []}
        return "ok"

    return answer


def ours(steps: int, root: Path) -> float:
    settings = settings_from_dict({
        "paths": {"runs_dir": str(root / "runs"), "checkpoint_db": str(root / "ours.sqlite"), "media_roots": []},
        "agent": {"strategy": "react", "react_max_steps": steps + 1, "max_iterations": 1},
        "rag": {"persist_dir": str(root / "chroma"), "auto_ingest": False}, "web": {"enabled": False}})
    agent = Agent(settings=settings, llm=FakeChatModel(handler=handler(steps)))
    start = time.perf_counter()
    result = agent.run("benchmark the loop")
    elapsed = time.perf_counter() - start
    assert sum(k.startswith("react_") for k in result.step_results) == steps, result.step_results.keys()
    return elapsed


class BareState(TypedDict, total=False):
    messages: Annotated[list, lambda a, b: (a or []) + (b or [])]
    done: int
    goal: int


def bare(steps: int, root: Path) -> float:
    settings = settings_from_dict({"paths": {"runs_dir": str(root / "bare_runs")}})
    ctx = make_context(settings, Workspace(root / "bare_ws", []))
    llm = FakeChatModel(handler=lambda call: json.dumps(ACTION))

    def act(state: BareState) -> dict:
        # A ReAct loop shows the model its observations so far, as ours does.
        history = "\n".join(f"step {i + 1}: {obs}" for i, obs in enumerate(state.get("messages") or []))
        reply = llm.invoke([HumanMessage(content=f"next action?\nObservations so far:\n{history or '(none)'}")])
        action = json.loads(reply.content)
        outcome = invoke(action["action"], action["args"], ctx)
        return {"messages": [outcome.summary], "done": state.get("done", 0) + 1}

    g = StateGraph(BareState)
    g.add_node("act", act)
    g.add_edge(START, "act")
    g.add_conditional_edges("act", lambda s: "act" if s["done"] < s["goal"] else END, ["act", END])
    conn = sqlite3.connect(str(root / f"bare-{steps}.sqlite"), check_same_thread=False)
    graph = g.compile(checkpointer=SqliteSaver(conn))
    start = time.perf_counter()
    graph.invoke({"goal": steps, "done": 0}, {"configurable": {"thread_id": "b"}, "recursion_limit": steps * 3 + 10})
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def per_step(fn, root: Path, n1: int = 5, n2: int = 45, repeats: int = 3) -> float:
    samples = []
    for r in range(repeats):
        t1 = fn(n1, root / f"{fn.__name__}{r}a")
        t2 = fn(n2, root / f"{fn.__name__}{r}b")
        samples.append((t2 - t1) / (n2 - n1))
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ours(2, root / "warm")  # load the embedder and imports once, outside the measurement
        bare(2, root / "warm")
        ours_ms = per_step(ours, root) * 1000
        bare_ms = per_step(bare, root) * 1000
    ratio = ours_ms / bare_ms
    print(f"ours per step: {ours_ms:.2f} ms (react: structured action + registry call + trace + checkpoint)")
    print(f"bare LangGraph loop per step: {bare_ms:.2f} ms (model call + registry call + checkpoint)")
    print(f"BENCH agent_overhead: ratio={ratio:.2f} goal<=1.5 {'PASS' if ratio <= 1.5 else 'FAIL'}")


if __name__ == "__main__":
    main()
