"""Animation AI Studio: the agent (LangGraph state machine, LLM backends, Agent API, CLI)."""
from __future__ import annotations

__all__ = ["Agent", "RunResult"]


def __getattr__(name: str):
    # Lazy: `import agent` stays cheap; the graph pulls langgraph and the tools only when used.
    if name in __all__:
        from agent import api

        return getattr(api, name)
    raise AttributeError(name)
