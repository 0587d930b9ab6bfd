"""Stage 6 — train_lora: an SDXL LoRA per character from the exported dataset.

Holds the `sdxl` resource while it trains (the scheduler evicts the LLM first), checkpoints every
dataset.checkpoint_every steps, resumes from the latest checkpoint, saves with
StableDiffusionXLPipeline.save_lora_weights and registers the LoRA with its trigger word.
"""
from __future__ import annotations

from pathlib import Path

from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.settings.loader import resolve_path
from tools.core.types import Artifact, ToolError, ToolResult
from tools.dataset.export import caption_for
from tools.dataset.metadata import DatasetStore, StageSummary, fingerprint
from tools.dataset.subject import choose_subject, subject_items
from tools.image.loras import LoraEntry, register_lora
from tools.image.readiness import lora_base_unmet


class TrainResult(ToolResult):
    dataset: str
    character: str | None  # None: a LoRA of the whole dataset (it names no character)
    subject: str  # what was trained and why ("Pip, as asked"; "the whole dataset: it names no character")
    lora_name: str
    lora_path: str
    trigger: str
    images: int
    steps: int
    resumed_from: int
    first_loss: float
    last_loss: float
    seconds: float
    device: str
    precision: str

    def summary(self) -> str:
        resumed = f", resumed at step {self.resumed_from}" if self.resumed_from else ""
        return (f"trained LoRA {self.lora_name} on {self.subject} ({self.images} images, {self.steps} steps{resumed}, loss "
                f"{self.first_loss:.4f}→{self.last_loss:.4f}, {self.device}/{self.precision}, {self.seconds:.1f}s); "
                f"trigger word: {self.trigger}")


def base_model_path(settings) -> Path:
    base = settings.dataset.base_model_path or settings.image.sdxl_model_path
    if base is None:
        raise ToolError("No SDXL base model configured for LoRA training",
                        "set dataset.base_model_path (or image.sdxl_model_path) to a diffusers folder or .safetensors file")
    path = resolve_path(base)
    if not path.exists():
        raise ToolError(f"SDXL base model not found at {path}", "fix dataset.base_model_path / image.sdxl_model_path")
    return path


def run_train(ctx: ToolContext, store: DatasetStore, character: str | None, max_steps: int | None = None) -> TrainResult:
    from tools.dataset.lora_trainer import TrainConfig, train

    s = ctx.settings.dataset
    subject = choose_subject(store, character)
    items = subject_items(store, subject)
    if not items:
        what = f"captioned frames of {subject.character}" if subject.character else "kept frames"
        raise ToolError(f"no {what} in dataset {store.meta.name}",
                        "check `animstudio dataset status` (filter/characters drops) and the reference images")
    base = base_model_path(ctx.settings)
    images = [store.abspath(i.file) for i in items]
    captions = [caption_for(i, subject.trigger) for i in items]
    steps = max_steps or s.max_steps
    low_mem = ctx.low_memory
    batch = 1 if low_mem else s.train_batch_size
    # The fingerprint's keys stay as first written: renaming one would retrain every finished LoRA.
    fp = fingerprint(str(base), [str(p) for p in images], captions, {
        "resolution": s.resolution, "rank": s.rank, "alpha": s.alpha, "learning_rate": s.learning_rate,
        "batch_size": batch, "seed": s.seed})
    cfg = TrainConfig.from_settings(s, base_model=base, images=images, captions=captions,
                                    output_dir=store.root / "lora" / subject.key, max_steps=steps,
                                    train_batch_size=batch, gradient_checkpointing=s.gradient_checkpointing or low_mem,
                                    fingerprint=fp)
    with ctx.progress.task(f"train_lora: {subject.label}", total=steps) as task:
        outcome = train(cfg, on_step=lambda step, loss: task.update(completed=step), log=ctx.logger.info)
    lora_name = subject.lora_name
    register_lora(ctx.settings, LoraEntry(name=lora_name, path=outcome.lora_file,
                                          kind="character" if subject.character else "style",
                                          trigger_words=[subject.trigger], base_model=str(base),
                                          notes=f"trained by the dataset pipeline on {len(images)} frames"))
    result = TrainResult(
        dataset=store.meta.name, character=subject.character, subject=f"{subject.label} ({subject.how})",
        lora_name=lora_name, lora_path=str(outcome.lora_file), trigger=subject.trigger, images=len(images), steps=outcome.steps, resumed_from=outcome.resumed_from,
        first_loss=outcome.losses[0] if outcome.losses else 0.0, last_loss=outcome.losses[-1] if outcome.losses else 0.0,
        seconds=outcome.seconds, device=outcome.device, precision=outcome.precision,
        artifacts=[Artifact(path=ctx.workspace.relative(outcome.lora_file), kind="lora",
                            metadata={"trigger_words": [subject.trigger], "character": subject.character,
                                      "steps": outcome.steps})])
    store.meta.outputs.setdefault("loras", {})[subject.key] = result.model_dump(mode="json", exclude={"artifacts"})
    counted = f"character:{subject.character}" if subject.character else "frames"
    store.finish_stage(StageSummary(stage="train", fingerprint=fp, seconds=outcome.seconds,
                                    counts={counted: len(images), "steps": outcome.steps},
                                    notes=[result.summary()]))
    return result


@tool(family="dataset", resources=("sdxl",), requires=lora_base_unmet)
def dataset_train_lora(ctx: ToolContext, name: str, character: str | None = None,
                       max_steps: int | None = None) -> TrainResult:
    """Train an SDXL LoRA on a dataset: one of its characters, or the dataset as it is (resumes from its
    latest checkpoint).

    Args:
        name: The dataset name (after dataset_export or dataset_caption).
        character: The character to train (a folder name under the references). Left out: the dataset's
            only character, or, when its metadata names none, all its kept frames with the dataset's
            trigger word; a dataset that names several needs one.
        max_steps: Training steps; default dataset.max_steps.
    """
    return run_train(ctx, DatasetStore.open(ctx.settings, name, create=False), character, max_steps)
