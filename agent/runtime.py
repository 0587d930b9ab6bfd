"""Everything a node needs that is not state: settings, tool context, LLM, knowledge, router."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.planning.routing.router import Router
from rag.types import Retriever, WebSearcher
from tools.core.context import ToolContext
from tools.core.settings import Settings
from tools.core.trace import Trace
from workflows import Workflow


@dataclass
class Runtime:
    settings: Settings
    ctx: ToolContext
    llm: Any  # langchain-core BaseChatModel
    trace: Trace
    kb: Retriever
    web: WebSearcher
    router: Router
    workflows: dict[str, Workflow]
    llm_is_tiny: bool = False
    native_tool_calls: bool = False
    inputs: list[str] = field(default_factory=list)  # other files/folders the user named for this run
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def strategy(self) -> str:
        return self.settings.agent.strategy
