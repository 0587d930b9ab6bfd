"""The studio's library pages: the knowledge base (search, ingest) and the LoRA datasets (status, export)."""
from __future__ import annotations

import shutil
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from agent.studio.api_routes import studio
from agent.studio.pages import _fragment, _render
from agent.studio.uploads import safe_filename
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError

router = APIRouter(include_in_schema=False)
KNOWLEDGE_SUFFIXES = {".md", ".markdown", ".txt"}
KNOWLEDGE_MAX_BYTES = 2_000_000
_kb_lock = threading.Lock()


def knowledge_base(request: Request):
    """One knowledge base per server (chromadb and the embedder load once)."""
    state = request.app.state
    with _kb_lock:
        if getattr(state, "kb", None) is None:
            from rag import open_knowledge_base

            state.kb = open_knowledge_base(studio(request).settings)
        return state.kb


@router.get("/ui/knowledge", response_class=HTMLResponse)
def knowledge_page(request: Request):
    stats = knowledge_base(request).stats()
    return _render(request, "knowledge.html.j2", page="knowledge", stats=stats, kinds=sorted(stats.chunks_by_kind))


@router.get("/ui/knowledge/search", response_class=HTMLResponse)
def knowledge_search(request: Request, q: str = "", kind: str = "", film: str = ""):
    if not q.strip():
        return HTMLResponse('<p class="empty">Type what you are looking for.</p>')
    filters = {k: v for k, v in (("kind", kind), ("film", film)) if v}
    results = knowledge_base(request).search(q[:500], k=8, filters=filters or None)
    return HTMLResponse(_fragment(request, "_kb_results.html.j2", results=results, query=q))


@router.post("/ui/knowledge/ingest", response_class=HTMLResponse)
async def knowledge_ingest(request: Request):
    """Markdown files uploaded here are kept in <first media root>/knowledge/ and ingested."""
    from rag.ingest import ingest_path

    form = await request.form(max_files=20, max_fields=5)
    kind = str(form.get("kind") or "") or None
    saved, problems = [], []
    settings = studio(request).settings
    folder = resolve_path(settings.paths.media_roots[0]) / "knowledge" if settings.paths.media_roots else None
    for upload in form.getlist("files"):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        name = safe_filename(upload.filename)
        data = await upload.read(KNOWLEDGE_MAX_BYTES + 1)
        if Path(name).suffix not in KNOWLEDGE_SUFFIXES:
            problems.append(f"{name}: not markdown or text ({', '.join(sorted(KNOWLEDGE_SUFFIXES))})")
        elif len(data) > KNOWLEDGE_MAX_BYTES:
            problems.append(f"{name}: larger than {KNOWLEDGE_MAX_BYTES // 1_000_000} MB")
        elif folder is None:
            problems.append("no media library to keep the file in (paths.media_roots is empty)")
        else:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{name}: not UTF-8 text")
                continue
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            saved.append(folder / name)
    kb = knowledge_base(request)
    reports = []
    for path in saved:
        try:
            reports.append(await run_in_threadpool(ingest_path, kb, path, kind=kind, prune=False))
        except ToolError as exc:
            problems.append(f"{path.name}: {exc.message}")
    lines = [f"{p.name}: {r.summary()}" for p, r in zip(saved, reports)]
    lines += [f"{source}: {error}" for r in reports for source, error in r.failed.items()]
    return HTMLResponse(_fragment(request, "_kb_ingested.html.j2", lines=lines, problems=problems or
                                  ([] if saved else ["choose one or more .md files"])))


def _dataset_rows(settings) -> list[dict[str, Any]]:
    from tools.dataset.metadata import DatasetStore
    from tools.dataset.stage import STAGES

    root = resolve_path(settings.paths.datasets_dir)
    rows = []
    for folder in sorted(p for p in root.glob("*") if (p / "metadata.json").exists()) if root.is_dir() else []:
        try:
            meta = DatasetStore.open(settings, folder.name, create=False).meta
        except (ToolError, ValueError) as exc:
            rows.append({"name": folder.name, "error": str(exc)})
            continue
        stages = []
        for stage in STAGES:
            counts = Counter(i.status(stage) for i in meta.items.values() if i.status(stage))
            if counts or stage in meta.stages:
                stages.append({"stage": stage, "counts": dict(sorted((counts or Counter(meta.stages[stage].counts)).items()))})
        rows.append({"name": meta.name, "film": Path(meta.film).name if meta.film else "", "frames": len(meta.items),
                     "characters": sorted(meta.characters), "stages": stages,
                     "loras": sorted((meta.outputs.get("loras") or {}).keys())})
    return rows


@router.get("/ui/datasets", response_class=HTMLResponse)
def datasets_page(request: Request):
    return _render(request, "datasets.html.j2", page="datasets", datasets=_dataset_rows(studio(request).settings))


def _drop_if_empty(folder: Path) -> None:
    """Remove a run folder that holds no file (only empty sub-folders)."""
    if folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
        shutil.rmtree(folder, ignore_errors=True)


@router.post("/ui/datasets/{name}/export", response_class=HTMLResponse)
async def dataset_export(name: str, request: Request):
    from tools.core.context import make_context
    from tools.dataset.export import run_export
    from tools.dataset.metadata import DatasetStore

    form = await request.form()
    fmt = str(form.get("format") or "kohya")
    if fmt not in ("kohya", "diffusers", "both"):
        return HTMLResponse('<div class="error">format must be kohya, diffusers or both</div>', status_code=422)
    settings = studio(request).settings

    def export():
        dataset = DatasetStore.open(settings, name, create=False)  # an unknown name is refused before a run folder exists
        ctx = make_context(settings)
        try:
            return run_export(ctx, dataset, fmt)
        except ToolError:
            _drop_if_empty(ctx.workspace.root)  # a refused export leaves no empty runs/<id>/ behind
            raise

    try:
        result = await run_in_threadpool(export)
    except ToolError as exc:
        return HTMLResponse(_fragment(request, "_export.html.j2", error=studio(request).redact(str(exc)), result=None),
                            status_code=422)
    return HTMLResponse(_fragment(request, "_export.html.j2", error=None, result=result))
