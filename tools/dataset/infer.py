"""Stage 7 — infer: sample images from a trained LoRA through the SDXL generation tool, a contact
sheet, and an identity-consistency score of the samples against the character's references.
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pydantic import Field

from tools.core.context import ToolContext
from tools.core.registry import invoke, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.dataset.metadata import DatasetStore, StageSummary, fingerprint
from tools.dataset.subject import choose_subject
from tools.image.readiness import lora_base_unmet

DEFAULT_PROMPTS = ["{trigger}, {cls}, solo, close-up, animated film still",
                   "{trigger}, {cls}, full body, standing, wide shot",
                   "{trigger}, {cls}, smiling, medium shot, bright lighting",
                   "{trigger}, {cls}, at night, dim lighting, medium shot"]


class InferResult(ToolResult):
    dataset: str
    character: str | None  # None: the LoRA of the whole dataset
    lora_name: str
    images: list[str]
    prompts: list[str]
    contact_sheet: str
    identity_backend: str | None = None
    identity_consistency: float | None = None  # mean best similarity of samples to the references
    per_image_identity: list[float | None] = Field(default_factory=list)

    def summary(self) -> str:
        ident = (f", identity consistency {self.identity_consistency:.3f} ({self.identity_backend})"
                 if self.identity_consistency is not None else ", identity not scored")
        return f"{len(self.images)} samples of {self.lora_name}{ident}; contact sheet {self.contact_sheet}"


def contact_sheet(paths: list[Path], labels: list[str], out: Path, thumb: int = 256) -> Path:
    cols = min(4, max(1, len(paths)))
    rows = (len(paths) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * thumb, rows * (thumb + 28)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (path, label) in enumerate(zip(paths, labels)):
        img = Image.open(path).convert("RGB")
        img.thumbnail((thumb, thumb))
        x, y = (i % cols) * thumb, (i // cols) * (thumb + 28)
        sheet.paste(img, (x + (thumb - img.width) // 2, y))
        draw.text((x + 4, y + thumb + 6), label[:40], fill="black")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def identity_scores(settings, refs: list[str], images: list[Path]) -> tuple[str | None, list[float | None]]:
    """Best cosine similarity of any face/figure in each sample to any reference (None: nothing found),
    with the backend chosen on the references (tools/image/consistency.py)."""
    from tools.image.consistency import ConsistencyScorer

    scorer = ConsistencyScorer(settings, [Path(r) for r in refs if Path(r).exists()])
    if scorer.backend is None:
        return None, [None] * len(images)
    if not scorer.ready:
        return scorer.backend.name, [None] * len(images)
    return scorer.backend.name, [scorer.score_image(p).similarity for p in images]


def run_infer(ctx: ToolContext, store: DatasetStore, character: str | None, prompts: list[str] | None, seed: int,
              steps: int | None, size: int | None) -> InferResult:
    s = ctx.settings.dataset
    subject = choose_subject(store, character)
    lora = store.meta.outputs.get("loras", {}).get(subject.key)
    if not lora:
        raise ToolError(f"no trained LoRA of {subject.label} in dataset {store.meta.name}",
                        "run dataset_train_lora first")
    prompts = prompts or [p.format(trigger=subject.trigger, cls=s.class_word) for p in DEFAULT_PROMPTS][: s.samples]
    settings = ctx.settings
    if settings.image.sdxl_model_path is None and s.base_model_path is not None:
        # Sample with the model the LoRA was trained on.
        settings = settings.model_copy(update={"image": settings.image.model_copy(update={"sdxl_model_path": s.base_model_path})})
    gen_ctx = dataclasses.replace(ctx, settings=settings)
    size = size or s.resolution
    images: list[Path] = []
    artifacts: list[Artifact] = []
    key = subject.key
    with ctx.progress.task(f"infer: {subject.label}", total=len(prompts)) as task:
        for i, prompt in enumerate(prompts):
            out = invoke("generate_image", {"prompt": prompt, "loras": [lora["lora_name"]], "seed": seed + i,
                                            "steps": steps or s.sample_steps, "width": size, "height": size,
                                            "output_name": f"{store.meta.name}_{key}_{i}"}, gen_ctx)
            if not out.ok:
                raise ToolError(f"sample generation failed: {out.error}", out.hint or "see the run trace")
            for a in out.artifacts:
                images.append(Path(ctx.workspace.root) / a.path if not Path(a.path).is_absolute() else Path(a.path))
                artifacts.append(a)
            task.advance()
    sample_dir = store.root / "samples" / key
    sample_dir.mkdir(parents=True, exist_ok=True)
    for p in images:
        shutil.copy2(p, sample_dir / p.name)
    sheet = contact_sheet(images, prompts, ctx.workspace.unique_output(f"{store.meta.name}_{key}_sheet", ".png", "images"))
    shutil.copy2(sheet, sample_dir / "contact_sheet.png")
    backend, per_image = identity_scores(ctx.settings, subject.refs, images)
    scored = [v for v in per_image if v is not None]
    result = InferResult(dataset=store.meta.name, character=subject.character, lora_name=lora["lora_name"],
                         images=[str(p) for p in images], prompts=prompts, contact_sheet=str(sample_dir / "contact_sheet.png"),
                         identity_backend=backend, identity_consistency=round(float(np.mean(scored)), 4) if scored else None,
                         per_image_identity=per_image,
                         artifacts=artifacts + [Artifact(path=ctx.workspace.relative(sheet), kind="image",
                                                         metadata={"contact_sheet": True, "character": subject.character})])
    store.meta.outputs.setdefault("samples", {})[key] = result.model_dump(mode="json", exclude={"artifacts"})
    counted = f"character:{subject.character}" if subject.character else "frames"
    store.finish_stage(StageSummary(stage="infer", fingerprint=fingerprint(lora, prompts, seed),
                                    counts={counted: len(images)}, notes=[result.summary()]))
    return result


@tool(family="dataset", resources=("sdxl",), requires=lora_base_unmet)
def dataset_infer(ctx: ToolContext, name: str, character: str | None = None, prompts: list[str] | None = None,
                  seed: int = 0, steps: int | None = None, size: int | None = None) -> InferResult:
    """Sample images from a dataset's trained LoRA, make a contact sheet and score identity consistency.

    Args:
        name: The dataset name (after dataset_train_lora).
        character: The character whose LoRA to sample. Left out: the dataset's only character, or the
            LoRA of the whole dataset when its metadata names none (identity is then not scored).
        prompts: Prompts to render (default: four shots using the trigger word).
        seed: Seed of the first sample; sample i uses seed + i.
        steps: Denoising steps (default dataset.sample_steps).
        size: Square image size in pixels (default dataset.resolution).
    """
    return run_infer(ctx, DatasetStore.open(ctx.settings, name, create=False), character, prompts, seed, steps, size)
