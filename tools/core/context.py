"""ToolContext: what every tool receives (never part of a tool's schema)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from tools.core.progress import NULL_PROGRESS, CallbackProgress
from tools.core.scheduler import ResourceScheduler
from tools.core.settings import Settings
from tools.core.trace import NULL_TRACE, Trace
from tools.core.workspace import Workspace


class KnowledgeStore(Protocol):
    """What tools may use of the knowledge base (implemented in rag/, injected by the agent)."""

    def add_documents(self, kind: str, docs: list[dict[str, Any]]) -> int: ...
    def search(self, query: str, k: int = 5, filters: dict[str, Any] | None = None) -> list[Any]: ...


@dataclass
class ToolContext:
    settings: Settings
    workspace: Workspace
    scheduler: ResourceScheduler
    trace: Trace = NULL_TRACE
    progress: CallbackProgress = NULL_PROGRESS
    llm: Any = None  # a langchain-core BaseChatModel, for tools that need one
    knowledge: KnowledgeStore | None = None
    low_memory: bool = False  # set on the registry's single retry after an out-of-memory error
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("animstudio.tools"))
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from tools.core import child_processes

        lim = self.settings.limits  # every child process a tool starts runs under these bounds
        child_processes.configure(memory_mb=lim.child_memory_mb, address_space_mb=lim.child_address_space_mb,
                                  timeout_s=lim.child_timeout_s)

    def with_low_memory(self) -> "ToolContext":
        return replace(self, low_memory=True)

    def require_llm(self):
        from tools.core.types import ToolError

        if self.llm is None:
            raise ToolError("This tool needs an LLM but none is configured", "set llm.backend in your config")
        return self.llm


def make_context(settings: Settings, workspace: Workspace | None = None, **kwargs: Any) -> ToolContext:
    """A context for running tools outside the agent (CLI `tools call`, tests, scripts)."""
    from tools.core.scheduler import create_scheduler
    from tools.core.settings.loader import resolve_path

    trace = kwargs.pop("trace", NULL_TRACE)
    if workspace is None:
        media = [resolve_path(p) for p in settings.paths.media_roots]
        workspace = Workspace.create(resolve_path(settings.paths.runs_dir), media_roots=media)
    scheduler = kwargs.pop("scheduler", None) or create_scheduler(settings, trace)
    return ToolContext(settings=settings, workspace=workspace, scheduler=scheduler, trace=trace, **kwargs)
