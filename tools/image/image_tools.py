"""The image tools the agent calls: generate_image, generate_character_image, reproduce_image, list_loras."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.registry import InputPath, tool
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError, ToolResult
from tools.image.consistency import ConsistencyReport, character_consistency
from tools.image.control import CONTROL_KINDS
from tools.image.generate import MAX_SEED, ControlSpec, ImageResult, generate, reproduce
from tools.image.loras import load_registry
from tools.image.pipeline import SCHEDULERS
from tools.image.readiness import image_call_unmet
from tools.media.character_presets import get_character, load_characters

Size = Annotated[int, Field(ge=64, le=4096, multiple_of=8)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Steps = Annotated[int, Field(ge=1, le=150)]
ControlKind = Literal[CONTROL_KINDS]  # type: ignore[valid-type]
SchedulerName = Literal[tuple(SCHEDULERS)]  # type: ignore[valid-type]


def _controls(control_image: Path | None, control_type: str, control_scale: float, preprocess: bool) -> list[ControlSpec]:
    if control_image is None:
        return []
    return [ControlSpec(kind=control_type, image=control_image, scale=control_scale, preprocess=preprocess)]


@tool(family="image", resources=("sdxl",), requires=image_call_unmet)
def generate_image(
    ctx: ToolContext,
    prompt: str,
    negative_prompt: str = "",
    loras: list[str] | None = None,
    seed: Seed | None = None,
    steps: Steps | None = None,
    guidance_scale: Annotated[float, Field(ge=0.0, le=30.0)] | None = None,
    width: Size | None = None,
    height: Size | None = None,
    scheduler: SchedulerName | None = None,
    batch_size: Annotated[int, Field(ge=1, le=16)] = 1,
    control_image: InputPath | None = None,
    control_type: ControlKind = "canny",
    control_scale: Annotated[float, Field(ge=0.0, le=2.0)] = 0.8,
    preprocess_control: bool = True,
    output_name: str = "image",
) -> ImageResult:
    """Generate images with SDXL, optionally with LoRAs and a ControlNet. Every PNG stores its parameters.

    Args:
        prompt: What to draw, e.g. "a sea monster boy on a rocky beach, pixar style".
        negative_prompt: What to avoid, e.g. "blurry, low quality".
        loras: LoRA names from the registry, optionally with a weight: ["luca", "pixar_style:0.7"].
        seed: Random seed; the same seed and parameters give the same image. Random when omitted.
        steps: Denoising steps (default image.steps).
        guidance_scale: Prompt adherence (CFG); 5–8 is typical for SDXL.
        width: Image width in pixels, a multiple of 8 (default image.width).
        height: Image height in pixels, a multiple of 8 (default image.height).
        scheduler: Sampler: euler_a, euler, dpmpp_2m, dpmpp_2m_karras, ddim, unipc, ...
        batch_size: How many images; image i uses seed + i.
        control_image: An image whose structure (edges, depth, pose) the result should follow.
        control_type: Which ControlNet: canny (works offline), depth, openpose, lineart, ...
        control_scale: How strongly the ControlNet steers (0–2).
        preprocess_control: False when control_image already is an edge/depth/pose map.
        output_name: File name stem for the PNGs (saved under images/).
    """
    return generate(ctx, prompt, negative_prompt=negative_prompt, loras=list(loras or []), seed=seed, steps=steps,
                    guidance_scale=guidance_scale, width=width, height=height, scheduler=scheduler,
                    batch_size=batch_size, output_name=output_name,
                    controls=_controls(control_image, control_type, control_scale, preprocess_control))


class CharacterImageResult(ImageResult):
    character: str = ""
    consistency: ConsistencyReport | None = None  # every image scored against refs/<character>/

    def summary(self) -> str:
        return super().summary() + (f"; {self.consistency.summary()}" if self.consistency else "")


def with_consistency(ctx: ToolContext, result: ImageResult, character: str) -> CharacterImageResult:
    """Score every generated image against the character's reference pictures (never fails the generation)."""
    root = Path(ctx.workspace.root)
    paths = [Path(p) if Path(p).is_absolute() else root / p for p in result.images]
    report = character_consistency(ctx.settings, paths, character)
    ctx.trace.event("image.consistency", character=character, score=report.score, backend=report.backend,
                    reasons=report.reasons[:5])
    by_name = {i.image: i for i in report.images}
    for art in result.artifacts:
        scored = by_name.get(Path(art.path).name)
        if scored is not None:
            art.metadata.update(character_similarity=scored.similarity, character_score=scored.score)
    return CharacterImageResult(**result.model_dump(exclude={"artifacts"}), artifacts=result.artifacts,
                                character=character, consistency=report)


@tool(family="image", resources=("sdxl",), requires=image_call_unmet)
def generate_character_image(
    ctx: ToolContext,
    character: str,
    prompt: str,
    negative_prompt: str = "",
    extra_loras: list[str] | None = None,
    lora_weight: Annotated[float, Field(ge=-4.0, le=4.0)] | None = None,
    seed: Seed | None = None,
    steps: Steps | None = None,
    width: Size | None = None,
    height: Size | None = None,
    batch_size: Annotated[int, Field(ge=1, le=16)] = 1,
    control_image: InputPath | None = None,
    control_type: ControlKind = "canny",
    control_scale: Annotated[float, Field(ge=0.0, le=2.0)] = 0.8,
    pose_from_reference: bool = False,
) -> CharacterImageResult:
    """Generate a character from its preset (configs/characters.yaml): trigger words, LoRA and negative prompt
    are added, and every image is scored for consistency against the character's reference pictures.

    Args:
        character: Preset name, e.g. "Luca" or "Captain Brine".
        prompt: The scene or action, e.g. "waving on a boat at sunset".
        negative_prompt: Extra things to avoid (added to the preset's negative prompt).
        extra_loras: More LoRAs (e.g. a style) as names or "name:weight".
        lora_weight: Override the character LoRA's weight.
        seed: Random seed; the same seed gives the same image.
        steps: Denoising steps.
        width: Width in pixels (multiple of 8).
        height: Height in pixels (multiple of 8).
        batch_size: How many images.
        control_image: Structure to follow (edges/pose) from this image.
        control_type: canny, depth, openpose, ...
        control_scale: ControlNet strength.
        pose_from_reference: Use the preset's first reference image as the ControlNet source.
    """
    preset = get_character(ctx.settings, character)
    loras: list[str] = []
    if preset.lora:
        weight = lora_weight if lora_weight is not None else preset.lora_weight
        loras.append(preset.lora if weight is None else f"{preset.lora}:{weight}")
    loras += preset.style_loras + list(extra_loras or [])
    if pose_from_reference and control_image is None:
        if not preset.reference_images:
            raise ToolError(f"{preset.name} has no reference images", "add reference_images to its preset or pass control_image")
        # Preset paths come from the user's config (trusted) and resolve against the project home.
        reference = resolve_path(preset.reference_images[0])
        if not reference.is_file():
            raise ToolError(f"{preset.name}'s reference image {reference} does not exist", "fix reference_images in its preset")
        control_image = ctx.workspace.allow_file(reference)
    words = [w for w in preset.trigger_words if w.lower() not in prompt.lower()]
    full = ", ".join(p for p in [*words, preset.prompt, prompt] if p)
    negative = ", ".join(p for p in [preset.negative_prompt, negative_prompt] if p)
    result = generate(ctx, full, negative_prompt=negative, loras=loras, seed=seed, steps=steps, width=width,
                      height=height, batch_size=batch_size, character=preset.name,
                      output_name=preset.name.lower().replace(" ", "_"),
                      controls=_controls(control_image, control_type, control_scale, True))
    return with_consistency(ctx, result, preset.name)


@tool(family="image", resources=("sdxl",), requires=image_call_unmet)
def reproduce_image(ctx: ToolContext, image: InputPath, allow_other_model: bool = False) -> ImageResult:
    """Regenerate an image from the parameters stored in its PNG (prompt, seed, steps, LoRAs, ControlNet, model).

    Args:
        image: A PNG written by generate_image or generate_character_image.
        allow_other_model: Regenerate even if image.sdxl_model_path is not the model that made it.
    """
    return reproduce(ctx, image, allow_other_model=allow_other_model)


class LoraInfo(BaseModel):
    name: str
    kind: str
    trigger_words: list[str]
    weight: float
    exists: bool


class CatalogResult(ToolResult):
    loras: list[LoraInfo]
    characters: list[str]

    def summary(self) -> str:
        loras = ", ".join(f"{lo.name} ({lo.kind}{'' if lo.exists else ', missing file'})" for lo in self.loras)
        return f"LoRAs: {loras or 'none'}; characters: {', '.join(self.characters) or 'none'}"


@tool(family="image")
def list_loras(ctx: ToolContext) -> CatalogResult:
    """List the registered LoRAs (name, kind, trigger words) and the character presets."""
    loras = [LoraInfo(name=e.name, kind=e.kind, trigger_words=e.trigger_words, weight=e.weight,
                      exists=resolve_path(e.path).exists()) for e in load_registry(ctx.settings).values()]
    return CatalogResult(loras=loras, characters=[p.name for p in load_characters(ctx.settings).values()])
