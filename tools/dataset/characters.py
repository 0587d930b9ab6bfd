"""Stage 3 — characters: find faces/figures in kept frames and match them to reference images.

References: refs/<character>/*.png|jpg (an optional refs/<character>/trigger.txt sets the trigger
word). Region embeddings are cached per frame in features/<id>.npz, so changing the references,
the threshold or the margin re-matches without re-detecting.
"""
from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.types import ToolError
from tools.dataset.executor import make_executor
from tools.dataset.metadata import CharacterInfo, DatasetStore, Detection, FrameItem, StageRecord, fingerprint
from tools.dataset.stage import StageClock, StageResult
from tools.media.identity.choice import choose_backend, threshold_for
from tools.media.identity.opencv_backend import OpenCVBackend
from tools.media.identity.regions import match_regions
from tools.media.images import read_image

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".webp", ".bmp"}
FEATURE_VERSION = 2


def trigger_for(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "", name.lower()) or "char"
    return f"{slug}_chr"  # a rare token so the LoRA does not overwrite an existing concept


def load_references(refs_dir: Path, backend) -> tuple[dict[str, CharacterInfo], dict[str, list[np.ndarray]], list[str]]:
    """Character infos, reference embeddings, and problems (unreadable refs, characters without any)."""
    if not refs_dir.is_dir():
        raise ToolError(f"Reference folder not found: {refs_dir}", "make refs/<character>/*.png, one folder per character")
    infos: dict[str, CharacterInfo] = {}
    embeds: dict[str, list[np.ndarray]] = {}
    problems: list[str] = []
    for folder in sorted(p for p in refs_dir.iterdir() if p.is_dir()):
        files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_EXTS)
        trig_file = folder / "trigger.txt"
        trigger = trig_file.read_text(encoding="utf-8").strip() if trig_file.exists() else trigger_for(folder.name)
        infos[folder.name] = CharacterInfo(name=folder.name, trigger=trigger, refs=[str(f) for f in files])
        embeds[folder.name] = []
        for f in files:
            try:
                emb = backend.reference(read_image(f))
            except ValueError as exc:
                problems.append(f"{folder.name}: {exc}")
                continue
            if emb is None:
                problems.append(f"{folder.name}: no face/figure found in {f.name}")
            else:
                embeds[folder.name].append(emb)
        if not embeds[folder.name]:
            problems.append(f"{folder.name}: no usable reference image")
    if not infos:
        raise ToolError(f"{refs_dir} has no character folders", "make refs/<character>/*.png, one folder per character")
    return infos, embeds, problems


_local = threading.local()


def worker_spec(backend) -> tuple | None:
    """What a worker process needs to rebuild `backend` (None: keep it in this process)."""
    if backend.name == "opencv":
        return ("opencv", backend.min_fraction)
    if backend.name == "dnn":
        return ("dnn", *backend.paths, backend.score_min, backend.min_face_px)
    return None


def _worker_backend(spec: tuple):
    """One backend per worker thread/process: loading models per frame costs more than detecting."""
    cached = getattr(_local, "backends", None)
    if cached is None:
        cached = _local.backends = {}
    if spec not in cached:
        if spec[0] == "opencv":
            cached[spec] = OpenCVBackend(min_region_fraction=spec[1])
        else:
            from tools.media.identity.dnn_backend import DnnFaceBackend

            cached[spec] = DnnFaceBackend(Path(spec[1]), Path(spec[2]), score_min=spec[3], min_face_px=spec[4])
    return cached[spec]


def analyse_frame(job: tuple[str, str, tuple]) -> list[dict]:
    """Worker (opencv / dnn backends): detect regions, save embeddings to the feature file."""
    path, feature_path, spec = job
    regions = _worker_backend(spec).regions(read_image(path))
    _save_features(Path(feature_path), regions)
    return [{"box": list(r.box), "kind": r.kind} for r in regions]


def _save_features(path: Path, regions) -> None:
    embs = np.stack([r.embedding for r in regions]) if regions else np.zeros((0, 1), np.float32)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, embeddings=embs, boxes=np.array([r.box for r in regions], np.int32).reshape(-1, 4))
    tmp.replace(path)


def _feature_fp(item: FrameItem, backend) -> str:
    """Features are redone when the frame or anything that changes detection/embedding changes."""
    what = worker_spec(backend) or (backend.name, str(getattr(backend, "pack", "")))
    return fingerprint(item.stages["extract"].fingerprint, list(what), FEATURE_VERSION)


def run_characters(ctx: ToolContext, store: DatasetStore, refs_dir: Path) -> StageResult:
    s = ctx.settings.dataset
    items = store.items(kept_after="filter")
    # A library run keeps the backends it builds for every later film (ctx.extras["model_cache"]).
    choice = choose_backend(ctx.settings, [store.abspath(i.file) for i in items], cache=ctx.extras.get("model_cache"))
    backend = choice.backend
    threshold = threshold_for(ctx.settings, backend)
    infos, refs, problems = load_references(refs_dir, backend)
    store.meta.refs_dir, store.meta.characters = str(refs_dir), infos
    ref_fp = fingerprint(sorted((n, i.refs) for n, i in infos.items()))
    clock = StageClock("characters", fingerprint(backend.name, ref_fp, threshold, s.identity_margin))
    clock.notes += [f"backend: {backend.name} ({choice.reason}); match threshold {threshold:g}"] + \
        [f"problem: {p}" for p in problems]  # problems are shown in the stage summary
    feats = store.root / "features"
    feats.mkdir(exist_ok=True)
    todo = []
    for item in items:
        fp = _feature_fp(item, backend)
        rec = item.stages.get("characters")
        if rec and rec.fingerprint == fp and (feats / f"{item.id}.npz").exists():
            clock.reused += 1
        else:
            todo.append(item)
    with ctx.progress.task(f"characters: detecting ({backend.name})", total=len(todo)) as task:
        for item, result in _detect(ctx, store, backend, todo):
            fp = _feature_fp(item, backend)
            if isinstance(result, Exception):
                item.stages["characters"] = StageRecord(status="failed", fingerprint=fp, reason=f"detection failed: {result}")
            else:
                item.stages["characters"] = StageRecord(status="pending", fingerprint=fp, scores={"regions": len(result)})
            clock.redone += 1
            store.record(item)
            task.advance()
    for item in items:
        _match_item(store, item, refs, threshold, s.identity_margin, clock, backend.name)
    for name in infos:
        clock.counts[f"character:{name}"] = sum(name in i.characters for i in items)
    return clock.finish(ctx, store)


def _detect(ctx: ToolContext, store: DatasetStore, backend, todo: list[FrameItem]):
    s = ctx.settings.dataset
    feats = store.root / "features"
    spec = worker_spec(backend)
    if spec is not None:  # rebuildable in a worker: can use the process pool
        jobs = {str(store.abspath(i.file)): i for i in todo}
        executor = make_executor(s.executor, s.workers)
        for job, result in executor.map(analyse_frame, [(p, str(feats / f"{i.id}.npz"), spec)
                                                       for p, i in jobs.items()]):
            yield jobs[job[0]], result
        return
    for item in todo:  # insightface keeps one model in this process (GPU when present)
        try:
            regions = backend.regions(read_image(store.abspath(item.file)))
            _save_features(feats / f"{item.id}.npz", regions)
            yield item, regions
        except Exception as exc:  # noqa: BLE001 - one bad frame is recorded, the stage goes on
            yield item, exc


def _match_item(store: DatasetStore, item: FrameItem, refs, threshold: float, margin: float, clock: StageClock,
                backend_name: str) -> None:
    rec = item.stages.get("characters")
    if rec is None or rec.status == "failed":
        clock.counts["failed"] += 1
        if rec:
            clock.reasons[rec.reason.split(":")[0]] += 1
        return
    data = np.load(store.root / "features" / f"{item.id}.npz")
    embs, boxes = list(data["embeddings"]), data["boxes"]
    area = max(1, item.width * item.height)
    item.detections = [
        Detection(character=name, box=tuple(int(v) for v in box), score=score,
                  area_fraction=round(float(box[2] * box[3]) / area, 4), backend=backend_name)
        for (name, score), box in zip(match_regions(embs, refs, threshold, margin), boxes)
    ]
    named = item.characters
    rec.status = "done"
    rec.scores = {"regions": len(embs), "matched": named,
                  "best": max((d.score for d in item.detections), default=0.0)}
    rec.reason = "" if named else ("no character matched a reference" if embs else "no face or figure found")
    clock.counts["with_character" if named else "no_character"] += 1
    if rec.reason:
        clock.reasons[rec.reason] += 1


def precision_recall(predicted: dict[str, set[str]], truth: dict[str, set[str]]) -> dict[str, float]:
    """Micro precision/recall of (frame, character) pairs against ground truth."""
    pred = {(f, c) for f, cs in predicted.items() for c in cs}
    true = {(f, c) for f, cs in truth.items() for c in cs}
    tp = len(pred & true)
    return {"precision": tp / len(pred) if pred else 1.0, "recall": tp / len(true) if true else 1.0,
            "tp": tp, "fp": len(pred - true), "fn": len(true - pred)}


@tool(family="dataset")
def dataset_characters(ctx: ToolContext, name: str, refs: InputPath) -> StageResult:
    """Find characters in the kept frames and match them against reference images per character.

    Args:
        name: The dataset name (after dataset_filter).
        refs: A folder with one sub-folder of reference images per character (refs/<character>/*.png).
    """
    return run_characters(ctx, DatasetStore.open(ctx.settings, name, create=False), refs)
