"""SDXL generation: prompt + LoRAs + ControlNets → PNGs that carry their own parameters.

The tool wrappers live in tools/image/image_tools.py; this module is the engine they share
(and that `reproduce` uses to regenerate an image from its PNG metadata).
"""
from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.core.types import Artifact, ToolError, ToolResult
from tools.image.adapters import ActiveLora, lora_file, parse_lora_spec
from tools.image.control import control_image
from tools.image.loras import get_lora
from tools.image.pipeline import SCHEDULERS, apply_scheduler, handle_for, model_path
from tools.image.pngmeta import ControlUse, GenerationParams, LoraUse, read_generation_params, save_png

MAX_SEED = 2**32 - 1


class ControlSpec(BaseModel):
    """One ControlNet: which model, the source image, and how strongly it steers."""

    model_config = ConfigDict(extra="forbid")
    kind: str = "canny"
    image: Path
    scale: float = Field(0.8, ge=0.0, le=2.0)
    preprocess: bool = True  # False: `image` already is a control map
    low_threshold: int = 100
    high_threshold: int = 200


class ImageResult(ToolResult):
    images: list[str]
    seeds: list[int]
    width: int
    height: int
    prompt: str
    loras: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        extras = (f", LoRAs {', '.join(self.loras)}" if self.loras else "") + (
            f", ControlNet {', '.join(self.controls)}" if self.controls else "")
        return (f"generated {len(self.images)} image(s) {self.width}x{self.height} in {self.seconds:.1f}s "
                f"(seeds {', '.join(map(str, self.seeds))}{extras}): {', '.join(self.images)}")


def resolve_loras(settings, specs: list[str]) -> list[ActiveLora]:
    out: list[ActiveLora] = []
    seen: set[str] = set()
    for spec in specs:
        name, weight = parse_lora_spec(spec)
        if not name or name in seen:
            continue
        seen.add(name)
        entry = get_lora(settings, name)
        w = entry.weight if weight is None else weight
        if not -4.0 <= w <= 4.0:
            raise ToolError(f"LoRA weight {w} for {name!r} is out of range", "use a weight between -4 and 4 (usually 0.5–1.2)")
        out.append(ActiveLora(entry=entry, weight=w, path=lora_file(entry)))
    return out


def with_trigger_words(prompt: str, loras: list[ActiveLora]) -> str:
    """Prepend each LoRA's trigger words unless the prompt already contains them (a LoRA without
    its trigger word often does nothing)."""
    missing: list[str] = []
    lowered = prompt.lower()
    for lora in loras:
        for word in lora.entry.trigger_words:
            if word.lower() not in lowered and word not in missing:
                missing.append(word)
    return ", ".join([*missing, prompt]) if missing and prompt else ", ".join(missing) or prompt


def _check_size(width: int, height: int) -> None:
    for label, value in (("width", width), ("height", height)):
        if value % 8 or not 64 <= value <= 4096:
            raise ToolError(f"{label} {value} is not a multiple of 8 between 64 and 4096",
                            "SDXL works best at about 1024² total pixels, e.g. 1024x1024, 1152x896, 1344x768")


def generate(ctx, prompt: str, *, negative_prompt: str = "", loras: list[str] | None = None,
             seed: int | None = None, steps: int | None = None, guidance_scale: float | None = None,
             width: int | None = None, height: int | None = None, scheduler: str | None = None,
             batch_size: int = 1, controls: list[ControlSpec] | None = None, character: str | None = None,
             output_name: str = "image", add_trigger_words: bool = True) -> ImageResult:
    """Generate `batch_size` images; image i uses seed+i, so each can be reproduced alone."""
    import torch

    cfg = ctx.settings.image
    if not prompt.strip():
        raise ToolError("The prompt is empty", "describe the image to generate")
    steps = steps or cfg.steps
    guidance = cfg.guidance_scale if guidance_scale is None else guidance_scale
    width, height = width or cfg.width, height or cfg.height
    scheduler = scheduler or cfg.scheduler
    _check_size(width, height)
    if scheduler not in SCHEDULERS:
        raise ToolError(f"Unknown scheduler {scheduler!r}", f"choose one of {', '.join(SCHEDULERS)}")
    if not 1 <= batch_size <= cfg.max_batch_size:
        raise ToolError(f"batch_size {batch_size} is out of range", f"use 1..{cfg.max_batch_size} (image.max_batch_size)")
    seed = secrets.randbelow(MAX_SEED) if seed is None else seed
    if not 0 <= seed <= MAX_SEED:
        raise ToolError(f"seed {seed} is out of range", f"use 0..{MAX_SEED}")
    model = model_path(ctx.settings)  # clear error naming image.sdxl_model_path before any loading
    active = resolve_loras(ctx.settings, loras or [])
    full_prompt = with_trigger_words(prompt, active) if add_trigger_words else prompt
    controls = controls or []
    control_images = [control_image(c.kind, ctx.workspace.resolve_input(c.image), width, height, ctx.settings,
                                    preprocess=c.preprocess, low_threshold=c.low_threshold,
                                    high_threshold=c.high_threshold) for c in controls]

    handle = handle_for(ctx)
    start = time.perf_counter()
    was_loaded = handle.is_loaded()
    base = handle.base(low_memory=ctx.low_memory)
    handle.loras.activate(active)
    pipe = handle.control_pipe(tuple(c.kind for c in controls)) if controls else base
    if not was_loaded:
        ctx.trace.event("image.load", model=str(model), device=handle.plan.device, dtype=handle.plan.dtype_name,
                        low_memory=handle.low_memory, seconds=round(time.perf_counter() - start, 3))
    apply_scheduler(pipe, scheduler, handle.base_scheduler_config)
    # CPU generators: the same seed gives the same noise on every device.
    generators = [torch.Generator("cpu").manual_seed(seed + i) for i in range(batch_size)]
    extra: dict[str, Any] = {}
    if controls:
        many = len(controls) > 1
        extra["image"] = control_images if many else control_images[0]
        extra["controlnet_conditioning_scale"] = [c.scale for c in controls] if many else controls[0].scale

    gen_start = time.perf_counter()
    with ctx.progress.task(f"SDXL: {batch_size} image(s), {steps} steps", total=steps) as task:
        def on_step_end(_pipe: Any, _step: int, _timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            task.advance()
            return kwargs

        with torch.inference_mode():
            images = pipe(prompt=full_prompt, negative_prompt=negative_prompt or None, num_inference_steps=steps,
                          guidance_scale=guidance, width=width, height=height, num_images_per_prompt=batch_size,
                          generator=generators, callback_on_step_end=on_step_end, **extra).images
    seconds = time.perf_counter() - gen_start

    import diffusers

    lora_uses = [LoraUse(name=a.entry.name, weight=a.weight, path=str(a.path)) for a in active]
    control_uses = [ControlUse(kind=c.kind, image=ctx.workspace.relative(ctx.workspace.resolve_input(c.image)),
                               scale=c.scale, model=str(ctx.settings.image.controlnet_paths.get(c.kind, "")),
                               low_threshold=c.low_threshold if c.preprocess else None,
                               high_threshold=c.high_threshold if c.preprocess else None) for c in controls]
    result_paths, artifacts = [], []
    for i, image in enumerate(images):
        params = GenerationParams(
            prompt=full_prompt, negative_prompt=negative_prompt, seed=seed + i, steps=steps,
            guidance_scale=guidance, width=width, height=height, scheduler=scheduler, model=str(model),
            loras=lora_uses, controls=control_uses, character=character, dtype=handle.plan.dtype_name,
            device=handle.plan.device, diffusers_version=diffusers.__version__)
        out = save_png(image, ctx.workspace.unique_output(f"{output_name}_{seed + i}", ".png", "images"), params)
        rel = ctx.workspace.relative(out)
        result_paths.append(rel)
        artifacts.append(Artifact(path=rel, kind="image", metadata=params.model_dump(mode="json")))
    return ImageResult(images=result_paths, seeds=[seed + i for i in range(batch_size)], width=width, height=height,
                       prompt=full_prompt, loras=[f"{u.name}:{u.weight:g}" for u in lora_uses],
                       controls=[c.kind for c in controls], seconds=round(seconds, 3), artifacts=artifacts)


def reproduce(ctx, image: Path, *, allow_other_model: bool = False, output_name: str | None = None) -> ImageResult:
    """Regenerate an image from the parameters stored in its PNG."""
    params = read_generation_params(image)
    current = str(model_path(ctx.settings))
    if params.model != current and not allow_other_model:
        raise ToolError(f"{Path(image).name} was made with {params.model}, but image.sdxl_model_path is {current}",
                        "configure the original model, or pass allow_other_model=true for a close variant")
    if params.character:  # a preset's reference images are trusted config, readable like user files
        from tools.core.settings.loader import resolve_path
        from tools.media.character_presets import load_characters

        preset = load_characters(ctx.settings).get(params.character.lower())
        for ref in preset.reference_images if preset else []:
            if str(resolve_path(ref)) in {c.image for c in params.controls}:
                ctx.workspace.allow_file(resolve_path(ref))
    controls = []
    for c in params.controls:
        preprocess = c.low_threshold is not None
        controls.append(ControlSpec(kind=c.kind, image=Path(c.image), scale=c.scale, preprocess=preprocess,
                                    low_threshold=c.low_threshold or 100, high_threshold=c.high_threshold or 200))
    return generate(
        ctx, params.prompt, negative_prompt=params.negative_prompt,
        loras=[f"{lo.name}:{lo.weight}" for lo in params.loras], seed=params.seed, steps=params.steps,
        guidance_scale=params.guidance_scale, width=params.width, height=params.height,
        scheduler=params.scheduler, controls=controls, character=params.character,
        output_name=output_name or f"{Path(image).stem}_repro", add_trigger_words=False)
