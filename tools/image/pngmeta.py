"""Generation parameters stored inside every PNG, so any image can be reproduced.

Two text chunks are written:
- `animstudio`: the full `GenerationParams` as JSON (what `read_generation_params` reads back);
- `parameters`: the A1111-style summary that ComfyUI, Civitai and most image viewers display.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.core.types import ToolError

CHUNK_KEY = "animstudio"
FORMAT_VERSION = 1


class LoraUse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    weight: float
    path: str = ""


class ControlUse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str
    image: str  # the source image as given (workspace-relative when possible)
    scale: float = 1.0
    model: str = ""
    low_threshold: int | None = None  # canny thresholds, so the control map can be rebuilt
    high_threshold: int | None = None


class GenerationParams(BaseModel):
    """Everything needed to regenerate one image (one batch element)."""

    model_config = ConfigDict(extra="forbid")
    format_version: int = FORMAT_VERSION
    prompt: str
    negative_prompt: str = ""
    seed: int
    steps: int
    guidance_scale: float
    width: int
    height: int
    scheduler: str
    model: str
    loras: list[LoraUse] = Field(default_factory=list)
    controls: list[ControlUse] = Field(default_factory=list)
    character: str | None = None
    dtype: str = "float32"
    device: str = "cpu"
    diffusers_version: str = ""

    def a1111_text(self) -> str:
        """The `parameters` chunk in the format most tools display."""
        fields = [f"Steps: {self.steps}", f"Sampler: {self.scheduler}", f"CFG scale: {self.guidance_scale:g}",
                  f"Seed: {self.seed}", f"Size: {self.width}x{self.height}", f"Model: {Path(self.model).name}"]
        if self.controls:
            fields.append("ControlNet: " + "; ".join(f"{c.kind} {c.scale:g}" for c in self.controls))
        lora_tags = "".join(f" <lora:{lo.name}:{lo.weight:g}>" for lo in self.loras)
        return f"{self.prompt}{lora_tags}\nNegative prompt: {self.negative_prompt}\n" + ", ".join(fields)


def save_png(image: Any, path: Path, params: GenerationParams) -> Path:
    """Save a PIL image as PNG with the parameters in text chunks, atomically (no half-written files)."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", params.a1111_text())
    info.add_itxt(CHUNK_KEY, params.model_dump_json())  # iTXt: UTF-8, so unicode prompts survive
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".img-", suffix=".png")
    os.close(fd)
    try:
        image.save(tmp, format="PNG", pnginfo=info)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_generation_params(path: Path) -> GenerationParams:
    """Read the parameters back from a PNG written by `save_png`."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise ToolError(f"Image not found: {path}")
    try:
        with Image.open(path) as img:
            img.load()
            text = dict(getattr(img, "text", {}) or {}).get(CHUNK_KEY)
    except (UnidentifiedImageError, OSError) as exc:
        raise ToolError(f"{path.name} is not a readable image ({exc})", "give a PNG made by generate_image") from exc
    if not text:
        raise ToolError(f"{path.name} carries no generation parameters",
                        "only PNGs written by generate_image/generate_character_image can be reproduced")
    try:
        return GenerationParams.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise ToolError(f"{path.name} has unreadable generation parameters: {exc}") from exc
