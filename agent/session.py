"""Build the per-run Runtime: workspace, trace, scheduler, tool context, LLM, knowledge, router."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from agent.planning.routing.router import Router
from agent.runtime import Runtime
from tools.core.context import ToolContext
from tools.core.progress import CallbackProgress
from tools.core.registry import all_tools
from tools.core.scheduler import create_scheduler
from tools.core.settings import Settings
from tools.core.settings.loader import resolve_path
from tools.core.trace import Trace
from tools.core.workspace import Workspace
from workflows import all_workflows


def workflows_for(settings: Settings) -> dict:
    """The shipped workflows and those of `agent.workflow_dirs` (a folder's job replaces a shipped one)."""
    workflows = dict(all_workflows())
    for folder in settings.agent.workflow_dirs:
        workflows.update(all_workflows(resolve_path(folder)))
    return workflows


def _stream_progress(event: dict) -> None:
    """Forward tool progress to LangGraph's custom stream when inside a graph run."""
    try:
        from langgraph.config import get_stream_writer

        get_stream_writer()({"type": "progress", **event})
    except Exception:
        pass


def build_runtime(settings: Settings, run_id: str, film: Path | None, llm: Any = None,
                  inputs: list[Path] | None = None, *, new_run: bool = False) -> Runtime:
    media = [resolve_path(p) for p in settings.paths.media_roots]
    workspace = Workspace.create(resolve_path(settings.paths.runs_dir), run_id, media, new=new_run)
    for named in [film, *(inputs or [])]:  # files and folders the user named for this run
        if named:
            workspace.allow_file(named)
    trace = Trace(workspace.root / "trace.jsonl")
    scheduler = create_scheduler(settings, trace)
    if llm is None:
        from agent.llm import create_chat_model

        llm = create_chat_model(settings, scheduler, trace)
    elif hasattr(llm, "attach"):  # a model built outside the run still goes through its scheduler and trace
        llm = llm.attach(scheduler, trace)
    from rag import open_knowledge_base, open_web_search

    kb = open_knowledge_base(settings)
    if settings.rag.auto_ingest:
        try:
            from rag.ingest import ingest_default_knowledge

            report = ingest_default_knowledge(kb, settings)
            trace.event("rag.ingest", summary=report.summary())
        except Exception as exc:  # a broken knowledge file must not stop the run
            trace.event("rag.ingest_error", error=f"{type(exc).__name__}: {exc}")
    web = open_web_search(settings)
    progress = CallbackProgress()
    progress.listeners.append(_stream_progress)
    ctx = ToolContext(settings=settings, workspace=workspace, scheduler=scheduler, trace=trace, progress=progress,
                      llm=llm, knowledge=kb if hasattr(kb, "add_documents") else None)
    try:
        from tools.core.embeddings import get_embedder

        embedder = get_embedder(settings)
    except Exception as exc:  # routing by meaning degrades to the model's own choice
        trace.event("router.unavailable", error=f"{type(exc).__name__}: {exc}")
        embedder = None
    workflows = workflows_for(settings)
    # Every tool is plannable: a job whose model is missing is planned and refused with the setting
    # to fill (agent/planning/readiness.py), never replaced by another job.
    router = Router(embedder, workflows, all_tools(), settings.agent.router_min_similarity)
    # The packaged 135M model; a model handed in (tests, notebooks) is judged by its own backend.
    tiny = getattr(llm, "backend", settings.llm.backend) == "local" and settings.llm.local.model_path is None
    native = settings.llm.backend == "openai"
    return Runtime(settings=settings, ctx=ctx, llm=llm, trace=trace, kb=kb, web=web, router=router,
                   workflows=workflows, llm_is_tiny=tiny, native_tool_calls=native,
                   inputs=[str(p) for p in inputs or []])


@contextmanager
def open_runtime(settings: Settings, run_id: str, film: Path | None, llm: Any = None,
                 inputs: list[Path] | None = None, *, new_run: bool = False) -> Iterator[Runtime]:
    """`build_runtime`, then leave the cross-process residency ledger and close the trace on exit."""
    rt = build_runtime(settings, run_id, film, llm, inputs, new_run=new_run)
    try:
        yield rt
    finally:
        if hasattr(rt.ctx.scheduler, "close"):
            rt.ctx.scheduler.close()
        rt.trace.close()
