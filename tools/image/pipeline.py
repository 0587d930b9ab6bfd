"""Loading SDXL (and ControlNets) through diffusers, and the scheduler's model handle for "sdxl".

- `from_pretrained` for a diffusers folder, `from_single_file` for a .safetensors/.ckpt checkpoint;
  nothing is downloaded (local_files_only).
- fp16 + SDPA attention on CUDA, fp32 on CPU.
- Low-memory mode (ctx.low_memory after an OOM, or image.low_memory): VAE tiling + slicing and,
  on CUDA, model CPU offload.
- One `SDXLHandle` per scheduler, registered for resource "sdxl": when the scheduler evicts
  sdxl (e.g. to make room for the LLM) `unload()` drops every pipeline and frees the GPU.
"""
from __future__ import annotations

import gc
import importlib.util
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.core.scheduler.handles import release_torch_memory
from tools.core.settings.loader import resolve_path
from tools.core.types import ToolError

CHECKPOINT_SUFFIXES = {".safetensors", ".ckpt"}

# name → (diffusers scheduler class, extra config). Names follow the samplers users know.
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "dpmpp_2m_sde_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True, "algorithm_type": "sde-dpmsolver++"}),
    "ddim": ("DDIMScheduler", {}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "heun": ("HeunDiscreteScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
}


@dataclass(frozen=True)
class DevicePlan:
    device: str
    dtype_name: str  # "float16" | "float32"

    @property
    def dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype_name)


def choose_device(setting: str, cuda_available: bool | None = None, mps_available: bool | None = None) -> DevicePlan:
    """fp16 on CUDA (the SDXL norm), fp32 elsewhere (CPU fp16 is slow and MPS fp16 NaNs in the VAE)."""
    if cuda_available is None or mps_available is None:
        import torch

        cuda_available = torch.cuda.is_available() if cuda_available is None else cuda_available
        mps = getattr(torch.backends, "mps", None)
        mps_available = bool(mps and mps.is_available()) if mps_available is None else mps_available
    if setting == "cuda" and not cuda_available:
        raise ToolError("image.device is 'cuda' but no CUDA device is available", "set image.device: auto or cpu")
    if setting == "mps" and not mps_available:
        raise ToolError("image.device is 'mps' but MPS is not available", "set image.device: auto or cpu")
    device = setting if setting != "auto" else ("cuda" if cuda_available else "mps" if mps_available else "cpu")
    return DevicePlan(device, "float16" if device == "cuda" else "float32")


def image_generation_available(settings) -> tuple[bool, str]:
    """Cheap check (no torch import, no loading) so the planner can plan without image generation."""
    if importlib.util.find_spec("diffusers") is None:
        return False, "diffusers is not installed (pip install diffusers)"
    raw = settings.image.sdxl_model_path
    if raw is None:
        return False, "no SDXL weights configured: set image.sdxl_model_path to a diffusers folder or a .safetensors checkpoint"
    path = resolve_path(raw)
    try:
        _check_model_path(path)
    except ToolError as exc:
        return False, exc.message
    return True, f"SDXL available from {path}"


def _check_model_path(path: Path) -> None:
    if not path.exists():
        raise ToolError(f"image.sdxl_model_path points to {path}, which does not exist",
                        "set image.sdxl_model_path to a diffusers folder or a .safetensors SDXL checkpoint")
    if path.is_dir() and not (path / "model_index.json").is_file():
        raise ToolError(f"image.sdxl_model_path {path} is a folder without model_index.json",
                        "point it at a diffusers SDXL folder (save_pretrained layout) or a single .safetensors file")
    if path.is_file() and path.suffix.lower() not in CHECKPOINT_SUFFIXES:
        raise ToolError(f"image.sdxl_model_path {path} is not a .safetensors/.ckpt checkpoint",
                        "point it at a diffusers folder or an SDXL .safetensors file")
    if path.is_file() and path.stat().st_size == 0:
        raise ToolError(f"SDXL checkpoint {path} is empty (0 bytes)", "the download may be incomplete")


def model_path(settings) -> Path:
    if settings.image.sdxl_model_path is None:
        raise ToolError("No SDXL weights configured (image.sdxl_model_path is empty)",
                        "set image.sdxl_model_path to a diffusers SDXL folder or a .safetensors checkpoint; "
                        "image generation is skipped until then")
    path = resolve_path(settings.image.sdxl_model_path)
    _check_model_path(path)
    return path


def dtype_kwargs(plan: DevicePlan) -> dict[str, Any]:
    """diffusers renamed `torch_dtype` to `dtype`; pass whichever this version understands."""
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401  (new name exists)

        return {"dtype": plan.dtype}
    except ImportError:
        return {"torch_dtype": plan.dtype}


def _sdpa(module: Any) -> None:
    """Use PyTorch scaled-dot-product attention (flash/mem-efficient kernels on CUDA)."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    if module is not None and hasattr(module, "set_attn_processor"):
        module.set_attn_processor(AttnProcessor2_0())


def load_sdxl(settings, plan: DevicePlan) -> Any:
    """Load the base pipeline from a local folder or single file; errors name the setting to fix."""
    from diffusers import AutoencoderKL, StableDiffusionXLPipeline

    path = model_path(settings)
    kwargs: dict[str, Any] = dtype_kwargs(plan)
    if settings.image.vae_path is not None:  # e.g. the fp16-fix VAE, which does not overflow in half precision
        vae_dir = resolve_path(settings.image.vae_path)
        try:
            kwargs["vae"] = AutoencoderKL.from_pretrained(vae_dir, local_files_only=True, **dtype_kwargs(plan))
        except (OSError, ValueError) as exc:
            raise ToolError(f"could not load the VAE at image.vae_path={vae_dir}: {exc}",
                            "point image.vae_path at a diffusers AutoencoderKL folder or clear it") from exc
    try:
        if path.is_dir():
            unet = path / "unet"
            # Folders downloaded with variant="fp16" hold only *.fp16.safetensors weights.
            weights = list(unet.glob("diffusion_pytorch_model*.safetensors"))
            if weights and all(".fp16." in f.name for f in weights):
                kwargs["variant"] = "fp16"
            pipe = StableDiffusionXLPipeline.from_pretrained(path, local_files_only=True, **kwargs)
        else:
            config = settings.image.single_file_config
            if config is not None:
                kwargs["config"] = str(resolve_path(config))
            pipe = StableDiffusionXLPipeline.from_single_file(str(path), local_files_only=True, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        hint = "check that image.sdxl_model_path holds a complete SDXL model"
        if path.is_file():
            hint = ("loading a single-file checkpoint offline needs the SDXL component configs: set "
                    "image.single_file_config to a local diffusers SDXL folder (model_index.json + configs)")
        raise ToolError(f"could not load SDXL from {path}: {str(exc)[:300]}", hint) from exc
    _sdpa(pipe.unet)
    _sdpa(pipe.vae)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load_controlnet(settings, kind: str, plan: DevicePlan) -> Any:
    from diffusers import ControlNetModel

    paths = settings.image.controlnet_paths
    if kind not in paths:
        raise ToolError(f"No ControlNet configured for {kind!r} (image.controlnet_paths.{kind} is not set)",
                        f"configured: {sorted(paths) or 'none'}; add image.controlnet_paths.{kind}: <diffusers folder>")
    path = resolve_path(paths[kind])
    if not path.exists():
        raise ToolError(f"image.controlnet_paths.{kind} points to {path}, which does not exist",
                        "fix the path or remove the entry")
    try:
        if path.is_dir():
            model = ControlNetModel.from_pretrained(path, local_files_only=True, **dtype_kwargs(plan))
        else:
            model = ControlNetModel.from_single_file(str(path), local_files_only=True, **dtype_kwargs(plan))
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ToolError(f"could not load the {kind} ControlNet from {path}: {str(exc)[:300]}",
                        "use a diffusers ControlNet folder (config.json + weights) for SDXL") from exc
    _sdpa(model)
    return model


def apply_scheduler(pipe: Any, name: str, base_config: Any) -> None:
    import diffusers

    if name not in SCHEDULERS:
        raise ToolError(f"Unknown scheduler {name!r}", f"choose one of {', '.join(SCHEDULERS)}")
    cls_name, extra = SCHEDULERS[name]
    if type(pipe.scheduler).__name__ == cls_name and all(pipe.scheduler.config.get(k) == v for k, v in extra.items()):
        return
    pipe.scheduler = getattr(diffusers, cls_name).from_config(base_config, **extra)


class SDXLHandle:
    """The resident SDXL state of one scheduler: base pipeline, ControlNet pipelines, loaded LoRAs."""

    def __init__(self, settings, loader: Callable[[Any, DevicePlan], Any] = load_sdxl):
        self.settings = settings
        self._loader = loader
        self._lock = threading.RLock()
        self.pipe: Any = None
        self.plan: DevicePlan | None = None
        self.low_memory = False
        self.base_scheduler_config: Any = None
        self.controlnets: dict[str, Any] = {}
        self._control_pipes: dict[tuple[str, ...], Any] = {}
        self.loras: Any = None  # LoraState, created with the pipeline
        self.loads = 0

    # -- ModelHandle protocol ----------------------------------------------------------------
    def load(self) -> None:
        """Lazy on purpose: the scheduler calls this when sdxl becomes resident, but the pipeline is
        built on first use inside the tool call instead, where the registry's out-of-memory retry
        (low-memory mode) covers loading too and the call's ControlNets are known."""

    def unload(self) -> None:
        with self._lock:
            if self.pipe is not None and self.loras is not None:
                self.loras.unload_all()
            self.pipe = None
            self.loras = None
            self.controlnets.clear()
            self._control_pipes.clear()
        gc.collect()
        release_torch_memory()

    def is_loaded(self) -> bool:
        return self.pipe is not None

    # -- use -----------------------------------------------------------------------------------
    def base(self, low_memory: bool = False) -> Any:
        with self._lock:
            want_low = low_memory or bool(self.settings.image.low_memory)
            if self.pipe is None:
                self._load(want_low)
            elif want_low and not self.low_memory:
                self._configure(self.pipe, low_memory=True)
                self.low_memory = True
            return self.pipe

    def control_pipe(self, kinds: tuple[str, ...]) -> Any:
        """A ControlNet pipeline sharing the base pipeline's modules (from_pipe: no extra VRAM for them)."""
        from diffusers import MultiControlNetModel, StableDiffusionXLControlNetPipeline

        with self._lock:
            base = self.base()
            if kinds not in self._control_pipes:
                assert self.plan is not None
                for kind in kinds:
                    if kind not in self.controlnets:
                        model = load_controlnet(self.settings, kind, self.plan)
                        self.controlnets[kind] = model if self.low_memory else model.to(self.plan.device)
                models = [self.controlnets[k] for k in kinds]
                controlnet = models[0] if len(models) == 1 else MultiControlNetModel(models)
                pipe = StableDiffusionXLControlNetPipeline.from_pipe(base, controlnet=controlnet)
                pipe.set_progress_bar_config(disable=True)
                if self.low_memory:
                    self._configure(pipe, low_memory=True)
                self._control_pipes[kinds] = pipe
            return self._control_pipes[kinds]

    def _load(self, low_memory: bool) -> None:
        from tools.image.adapters import LoraState

        self.plan = choose_device(self.settings.image.device)
        pipe = self._loader(self.settings, self.plan)
        self.base_scheduler_config = pipe.scheduler.config
        self._configure(pipe, low_memory)
        self.pipe, self.low_memory = pipe, low_memory
        self.loras = LoraState(pipe, max_loaded=self.settings.image.max_loaded_loras)
        self.loads += 1

    def _configure(self, pipe: Any, low_memory: bool) -> None:
        assert self.plan is not None
        if low_memory:
            pipe.vae.enable_tiling()  # decode 1024²+ in tiles: the VAE decode is SDXL's peak
            pipe.vae.enable_slicing()  # one image of a batch at a time
        if low_memory and self.plan.device == "cuda":
            pipe.enable_model_cpu_offload()  # whole models move to the GPU only while they run
        else:
            pipe.to(self.plan.device)


_HANDLES: weakref.WeakKeyDictionary[Any, SDXLHandle] = weakref.WeakKeyDictionary()
_HANDLES_LOCK = threading.Lock()


def handle_for(ctx) -> SDXLHandle:
    """The SDXL handle of this context's scheduler, created and registered on first use."""
    with _HANDLES_LOCK:
        handle = _HANDLES.get(ctx.scheduler)
        if handle is None or handle.settings.image != ctx.settings.image:
            if handle is not None:
                handle.unload()
                ctx.scheduler.unregister("sdxl", handle)
            handle = SDXLHandle(ctx.settings)
            _HANDLES[ctx.scheduler] = handle
            ctx.scheduler.register("sdxl", handle)
        return handle
