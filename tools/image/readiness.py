"""What an image call needs that may not be configured: SDXL weights, a ControlNet, its preprocessor.

Cheap checks (no torch import, nothing loaded) the planner runs before executing, so a request for
an image without weights ends with one answer naming the setting instead of a failure halfway.
"""
from __future__ import annotations

import importlib.util
from typing import Any

from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError, Unmet
from tools.image.control import AUX_ANNOTATORS

SDXL_FIX = "set image.sdxl_model_path to a diffusers SDXL folder or a .safetensors SDXL checkpoint"


def _literal(value: Any) -> Any:
    """Arguments that are still `${...}` references are unknown at plan time."""
    return None if isinstance(value, str) and "${" in value else value


def sdxl_unmet(settings: Any, setting: str = "image.sdxl_model_path", raw: Any = None) -> list[Unmet]:
    from tools.image.pipeline import _check_model_path

    if importlib.util.find_spec("diffusers") is None:
        return [Unmet(setting="", problem="diffusers is not installed", fix="pip install diffusers")]
    raw = raw if raw is not None else settings.image.sdxl_model_path
    if raw is None:
        return [Unmet(setting=setting, problem="no SDXL weights are configured", fix=SDXL_FIX.replace(
            "image.sdxl_model_path", setting))]
    try:
        _check_model_path(resolve_path(raw))
    except ToolError as exc:
        return [Unmet(setting=setting, problem=exc.message, fix=exc.hint or SDXL_FIX)]
    return []


def control_unmet(settings: Any, args: dict[str, Any]) -> list[Unmet]:
    """A ControlNet for the asked kind, and for kinds other than Canny, their preprocessor."""
    guided = _literal(args.get("control_image")) or args.get("pose_from_reference") is True \
        or isinstance(args.get("control_image"), str)
    if not guided:
        return []
    kind = _literal(args.get("control_type")) or "canny"
    out: list[Unmet] = []
    path = settings.image.controlnet_paths.get(kind)
    if path is None:
        out.append(Unmet(setting=f"image.controlnet_paths.{kind}",
                         problem=f"no {kind} ControlNet is configured",
                         fix=f"set image.controlnet_paths.{kind} to a diffusers SDXL ControlNet folder"))
    elif not resolve_path(path).exists():
        out.append(Unmet(setting=f"image.controlnet_paths.{kind}",
                         problem=f"image.controlnet_paths.{kind} points to {resolve_path(path)}, which does not exist",
                         fix="fix the path"))
    if kind in AUX_ANNOTATORS and args.get("preprocess_control", True) is not False:
        if importlib.util.find_spec("controlnet_aux") is None:
            out.append(Unmet(setting="", problem=f"the {kind} preprocessor needs controlnet-aux, which is not installed",
                             fix="pip install 'animation-ai-studio[gpu]' on a GPU machine, or give a ready-made "
                                 f"{kind} map; Canny edges work without it"))
        root = settings.image.annotators_path
        if AUX_ANNOTATORS[kind][1] and (root is None or not resolve_path(root).is_dir()):
            out.append(Unmet(setting="image.annotators_path", problem=f"the {kind} preprocessor needs annotator weights",
                             fix="set image.annotators_path to a local copy of lllyasviel/Annotators"))
    return out


def lora_base_unmet(settings: Any, args: dict[str, Any]) -> list[Unmet]:
    """LoRA training and sampling: dataset.base_model_path, else image.sdxl_model_path."""
    if settings.dataset.base_model_path is not None:
        return sdxl_unmet(settings, "dataset.base_model_path", settings.dataset.base_model_path)
    return [u.model_copy(update={"fix": u.fix + " (or dataset.base_model_path, for LoRA training only)"})
            if u.setting else u for u in sdxl_unmet(settings)]


def image_call_unmet(settings: Any, args: dict[str, Any]) -> list[Unmet]:
    """generate_image / generate_character_image / reproduce_image."""
    return sdxl_unmet(settings) + control_unmet(settings, args)
