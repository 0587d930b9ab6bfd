"""SDXL LoRA training with diffusers + peft: cached latents/text embeddings, checkpoints, exact resume.

Determinism is by construction: the sample order of epoch e comes from seed+e, the noise and
timesteps of step k from a generator seeded with (seed, k); a checkpoint holds the LoRA weights,
the optimizer state, the global RNG states and the step. So a run killed after checkpoint k and
resumed produces the same LoRA as an uninterrupted run.
"""
from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import torch

    from tools.core.settings.sections import DatasetSettings

# torch is imported inside the functions: tool discovery imports this module, and torch costs
# seconds to import where no training happens.

LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


# The training values a run takes from the `dataset` settings, under the settings' own names: their
# defaults live there (tools/core/settings/sections.py, configs/default.yaml) and nowhere else.
HYPERPARAMETERS = ("resolution", "rank", "alpha", "learning_rate", "max_steps", "train_batch_size",
                   "checkpoint_every", "gradient_checkpointing", "mixed_precision", "seed")


@dataclass
class TrainConfig:
    base_model: Path
    images: list[Path]
    captions: list[str]
    output_dir: Path
    resolution: int
    rank: int
    alpha: float
    learning_rate: float
    max_steps: int
    train_batch_size: int
    checkpoint_every: int
    gradient_checkpointing: bool
    mixed_precision: str  # auto | no | fp16 | bf16
    seed: int
    fingerprint: str = ""
    keep_checkpoints: int = 2

    @classmethod
    def from_settings(cls, dataset: DatasetSettings, *, base_model: Path, images: list[Path], captions: list[str],
                      output_dir: Path, **overrides: Any) -> TrainConfig:
        """A run's data with the training values of `dataset` settings; `overrides` (this run's) win."""
        values = {name: getattr(dataset, name) for name in HYPERPARAMETERS} | overrides
        return cls(base_model=base_model, images=images, captions=captions, output_dir=output_dir, **values)


@dataclass
class TrainOutcome:
    lora_file: Path
    steps: int
    resumed_from: int
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    precision: str = "fp32"


def pick_device() -> torch.device:
    import torch

    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def autocast_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """Mixed precision only on CUDA; bf16 where the GPU has it, else fp16."""
    import torch

    if device.type != "cuda" or mode == "no":
        return None
    if mode == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"fp16": torch.float16, "bf16": torch.bfloat16}[mode]


def load_pipeline(base: Path, device: torch.device):
    import torch
    from diffusers import StableDiffusionXLPipeline

    dtype = torch.float16 if device.type == "cuda" else torch.float32
    if base.is_file():
        pipe = StableDiffusionXLPipeline.from_single_file(str(base), torch_dtype=dtype)
    else:
        pipe = StableDiffusionXLPipeline.from_pretrained(str(base), torch_dtype=dtype, local_files_only=True)
    return pipe.to(device)


def _load_image(path: Path, resolution: int) -> torch.Tensor:
    import torch

    img = Image.open(path).convert("RGB")
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    img = img.crop((left, top, left + side, top + side)).resize((resolution, resolution), Image.BICUBIC)
    arr = torch.from_numpy(np.asarray(img, dtype=np.float32) / 127.5 - 1.0)
    return arr.permute(2, 0, 1)


def cache_inputs(pipe, cfg: TrainConfig, device: torch.device) -> dict[str, torch.Tensor]:
    """Encode every image and caption once; the VAE and text encoders are not needed after this."""
    import torch

    with torch.no_grad():
        return _encode_inputs(pipe, cfg, device)


def _encode_inputs(pipe, cfg: TrainConfig, device: torch.device) -> dict[str, torch.Tensor]:
    import torch

    cache_file = cfg.output_dir / "cache.pt"
    if cache_file.exists():
        cached = torch.load(cache_file, map_location="cpu", weights_only=True)
        if cached.get("fingerprint") == cfg.fingerprint and int(cached["n"]) == len(cfg.images):
            return {k: v for k, v in cached.items() if isinstance(v, torch.Tensor)}
    vae = pipe.vae
    vae_dtype = torch.float32  # the SDXL VAE overflows in fp16
    vae.to(device, dtype=vae_dtype)
    latents, embeds, pooled = [], [], []
    for path, caption in zip(cfg.images, cfg.captions):
        pixels = _load_image(path, cfg.resolution).unsqueeze(0).to(device, vae_dtype)
        latents.append((vae.encode(pixels).latent_dist.mode() * vae.config.scaling_factor).float().cpu())
        pe, _, ppe, _ = pipe.encode_prompt(caption, device=device, num_images_per_prompt=1,
                                           do_classifier_free_guidance=False)
        embeds.append(pe.float().cpu())
        pooled.append(ppe.float().cpu())
    out = {"latents": torch.cat(latents), "prompt_embeds": torch.cat(embeds), "pooled": torch.cat(pooled)}
    cfg.output_dir.mkdir(parents=True, exist_ok=True)
    torch.save({**out, "n": torch.tensor(len(cfg.images)), "fingerprint": cfg.fingerprint}, cache_file)
    return out


def latest_checkpoint(ckpt_dir: Path, fingerprint: str) -> Path | None:
    """The newest complete checkpoint made from the same data and parameters."""
    import torch

    if not ckpt_dir.is_dir():
        return None
    for path in sorted(ckpt_dir.glob("step-*"), reverse=True):
        state = path / "state.pt"
        if state.exists() and (path / "lora.safetensors").exists():
            meta = torch.load(state, map_location="cpu", weights_only=False)
            if meta.get("fingerprint") == fingerprint:
                return path
    return None


def _rng_state() -> dict:
    import torch

    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    import torch

    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(cfg: TrainConfig, unet, optimizer, step: int, losses: list[float]) -> Path:
    import torch
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file

    ckpt_dir = cfg.output_dir / "checkpoints"
    final = ckpt_dir / f"step-{step:07d}"
    tmp = ckpt_dir / f".tmp-step-{step:07d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    lora = {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(unet).items()}
    save_file(lora, str(tmp / "lora.safetensors"))
    torch.save({"step": step, "optimizer": optimizer.state_dict(), "rng": _rng_state(), "losses": losses,
                "fingerprint": cfg.fingerprint}, tmp / "state.pt")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)  # a checkpoint appears complete or not at all
    for old in sorted(ckpt_dir.glob("step-*"))[:-cfg.keep_checkpoints]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def train(cfg: TrainConfig, on_step: Callable[[int, float], None] | None = None,
          log: Callable[[str], None] = lambda m: None) -> TrainOutcome:
    import torch
    from diffusers import DDPMScheduler, StableDiffusionXLPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict
    from safetensors.torch import load_file

    start_time = time.perf_counter()
    device = pick_device()
    amp = autocast_dtype(cfg.mixed_precision, device)
    pipe = load_pipeline(cfg.base_model, device)
    data = cache_inputs(pipe, cfg, device)
    unet = pipe.unet.to(device, dtype=torch.float32)
    noise_sched = DDPMScheduler.from_config(pipe.scheduler.config)
    del pipe  # drop the VAE and text encoders: only the UNet trains
    if device.type == "cuda":
        torch.cuda.empty_cache()
    unet.requires_grad_(False)
    torch.manual_seed(cfg.seed)  # the LoRA's gaussian init
    unet.add_adapter(LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, init_lora_weights="gaussian",
                                target_modules=LORA_TARGETS))
    if cfg.gradient_checkpointing:
        unet.enable_gradient_checkpointing()
    params = [p for p in unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=1e-2)
    step, losses, resumed_from = 0, [], 0
    ckpt = latest_checkpoint(cfg.output_dir / "checkpoints", cfg.fingerprint)
    if ckpt is not None:
        state = torch.load(ckpt / "state.pt", map_location="cpu", weights_only=False)
        set_peft_model_state_dict(unet, {k: v.to(device) for k, v in load_file(str(ckpt / "lora.safetensors")).items()})
        optimizer.load_state_dict(state["optimizer"])
        _set_rng_state(state["rng"])
        step = resumed_from = int(state["step"])
        losses = list(state["losses"])
        log(f"resuming from {ckpt.name} (step {step})")
    n = data["latents"].shape[0]
    res = cfg.resolution
    time_ids = torch.tensor([[res, res, 0, 0, res, res]], dtype=torch.float32, device=device)
    batch = cfg.train_batch_size
    unet.train()
    while step < cfg.max_steps:
        epoch_order = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed + (step * batch) // n))
        idx = torch.stack([epoch_order[(step * batch + b) % n] for b in range(batch)])
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        latents = data["latents"][idx].to(device)
        noise = torch.randn(latents.shape, generator=gen).to(device)
        t = torch.randint(0, noise_sched.config.num_train_timesteps, (len(idx),), generator=gen).to(device)
        noisy = noise_sched.add_noise(latents, noise, t)
        target = noise if noise_sched.config.prediction_type == "epsilon" else noise_sched.get_velocity(latents, noise, t)
        cond = {"text_embeds": data["pooled"][idx].to(device), "time_ids": time_ids.repeat(len(idx), 1)}
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            pred = unet(noisy, t, encoder_hidden_states=data["prompt_embeds"][idx].to(device),
                        added_cond_kwargs=cond, return_dict=False)[0]
        loss = torch.nn.functional.mse_loss(pred.float(), target.float())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        step += 1
        losses.append(round(float(loss.detach()), 6))
        if on_step:
            on_step(step, losses[-1])
        if cfg.checkpoint_every > 0 and step % cfg.checkpoint_every == 0 and step < cfg.max_steps:
            save_checkpoint(cfg, unet, optimizer, step, losses)
    lora_dir = cfg.output_dir / "final"
    lora_layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    StableDiffusionXLPipeline.save_lora_weights(save_directory=str(lora_dir), unet_lora_layers=lora_layers,
                                                safe_serialization=True)
    return TrainOutcome(lora_file=lora_dir / "pytorch_lora_weights.safetensors", steps=step, resumed_from=resumed_from,
                        losses=losses, seconds=round(time.perf_counter() - start_time, 2), device=device.type,
                        precision=str(amp).replace("torch.", "") if amp else "fp32")
