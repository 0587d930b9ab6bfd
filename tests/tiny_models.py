"""Tiny SDXL-architecture models built from configs, for tests that must not download weights.

`build_tiny_sdxl(folder)` writes a complete diffusers SDXL folder (two CLIP text encoders, an
SDXL-style UNet with `addition_embed_type="text_time"`, a small VAE, a locally written CLIP BPE
tokenizer) through `save_pretrained`, so tests load it back through the real `from_pretrained`
path. 2 steps at 64×64 take well under a second on CPU. Weights are random but seeded, so two
builds are identical.

Reused by the dataset pipeline's LoRA-training tests: keep the function names stable.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

# Shared sizes: the UNet's cross-attention width is the two encoders' hidden sizes concatenated,
# and its text_time projection input is 6 time ids × addition_time_embed_dim + encoder 2's projection.
TEXT_HIDDEN = 32
TEXT_PROJECTION = 32
TIME_EMBED_DIM = 8
VOCAB_SIZE = 1000
MAX_TOKENS = 77


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP byte → printable unicode table (same algorithm as the CLIP tokenizer)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


# A handful of merges so common words become few tokens (keeps prompts well inside 77 tokens).
_WORDS = ["a", "the", "of", "and", "in", "on", "with", "sea", "boy", "girl", "monster", "fish", "portrait",
          "painting", "style", "ocean", "boat", "blurry", "low", "quality", "red", "blue", "cat", "dog"]


def write_tiny_clip_tokenizer(folder: Path) -> Path:
    """Write vocab.json + merges.txt for a byte-level CLIP BPE tokenizer and save it with save_pretrained."""
    from transformers import CLIPTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chars = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for token in chars + [c + "</w>" for c in chars]:
        vocab.setdefault(token, len(vocab))
    merges: list[str] = []
    for word in _WORDS:
        # Merge left to right: ((a b) c)... ending with the </w> suffixed last char.
        pieces = list(word[:-1]) + [word[-1] + "</w>"]
        while len(pieces) > 1:
            merged = pieces[0] + pieces[1]
            rule = f"{pieces[0]} {pieces[1]}"
            if rule not in merges:
                merges.append(rule)
            vocab.setdefault(merged, len(vocab))
            pieces = [merged] + pieces[2:]
    vocab.setdefault("<|startoftext|>", len(vocab))
    vocab.setdefault("<|endoftext|>", len(vocab))
    assert len(vocab) <= VOCAB_SIZE, len(vocab)
    raw = folder / "_raw"
    raw.mkdir(exist_ok=True)
    (raw / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (raw / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")
    tokenizer = CLIPTokenizer(str(raw / "vocab.json"), str(raw / "merges.txt"), model_max_length=MAX_TOKENS)
    tokenizer.save_pretrained(folder)
    for f in raw.iterdir():
        f.unlink()
    raw.rmdir()
    return folder


def tiny_sdxl_components(seed: int = 0, bos_token_id: int = 0, eos_token_id: int = 2,
                         pad_token_id: int = 1) -> dict[str, Any]:
    """The SDXL components, randomly initialised from configs (seeded). Pass the tokenizer's special
    ids: the text encoders read their pooled output at the EOS position."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(32, 64),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=TIME_EMBED_DIM,
        transformer_layers_per_block=(1, 1),
        projection_class_embeddings_input_dim=6 * TIME_EMBED_DIM + TEXT_PROJECTION,
        cross_attention_dim=2 * TEXT_HIDDEN,
        norm_num_groups=8,
    )
    torch.manual_seed(seed + 1)
    # Four blocks like the real SDXL VAE: 8× down-sampling, which ControlNet's conditioning
    # embedding (also 8×) and LoRA training on latents rely on.
    vae = AutoencoderKL(
        block_out_channels=[8, 16, 16, 16],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
    )
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, steps_offset=1,
                                       beta_schedule="scaled_linear", timestep_spacing="leading")
    text_config = dict(hidden_size=TEXT_HIDDEN, intermediate_size=37, layer_norm_eps=1e-05, num_attention_heads=4,
                       num_hidden_layers=2, vocab_size=VOCAB_SIZE, hidden_act="gelu",
                       projection_dim=TEXT_PROJECTION, max_position_embeddings=MAX_TOKENS,
                       bos_token_id=bos_token_id, eos_token_id=eos_token_id, pad_token_id=pad_token_id)
    torch.manual_seed(seed + 2)
    text_encoder = CLIPTextModel(CLIPTextConfig(**text_config))
    torch.manual_seed(seed + 3)
    text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**text_config))
    return {"unet": unet, "vae": vae, "scheduler": scheduler,
            "text_encoder": text_encoder, "text_encoder_2": text_encoder_2}


def build_tiny_sdxl(folder: Path, seed: int = 0) -> Path:
    """Build a tiny SDXL pipeline from configs, save it with save_pretrained, return the folder."""
    from diffusers import StableDiffusionXLPipeline
    from transformers import CLIPTokenizer

    folder = Path(folder)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(write_tiny_clip_tokenizer(Path(tmp)))
    components = tiny_sdxl_components(seed, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id)
    pipe = StableDiffusionXLPipeline(tokenizer=tokenizer, tokenizer_2=tokenizer, **components)
    pipe.save_pretrained(folder)
    return folder


def build_tiny_controlnet(unet_folder_or_pipeline: Any, out: Path, seed: int = 0, weight_scale: float = 0.1) -> Path:
    """A tiny SDXL ControlNet derived from the tiny UNet (ControlNetModel.from_unet), saved to `out`.

    `unet_folder_or_pipeline` is a pipeline folder (with unet/), a UNet folder, a pipeline or a UNet.
    The zero-initialised output convolutions are re-randomised: otherwise a fresh ControlNet adds
    exactly nothing and tests could not see conditioning change the output.
    """
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel

    source = unet_folder_or_pipeline
    if isinstance(source, (str, Path)):
        folder = Path(source)
        unet = UNet2DConditionModel.from_pretrained(folder / "unet" if (folder / "unet").is_dir() else folder)
    elif hasattr(source, "unet"):
        unet = source.unet
    else:
        unet = source
    controlnet = ControlNetModel.from_unet(unet, conditioning_channels=3)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block,
                       controlnet.controlnet_cond_embedding.conv_out]:
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * weight_scale)
        # Without biases in the conditioning embedding its output is driven by the control image
        # alone; with random ones it is a near-constant offset whatever the image shows.
        for name, param in controlnet.controlnet_cond_embedding.named_parameters():
            if name.endswith("bias"):
                param.zero_()
        # Rescale so an edge map's embedding is as strong as the latent's own (≈0.5), like a trained one.
        probe = -torch.ones(1, 3, 64, 64)
        probe[..., 8:56, 30:34] = 1.0
        strength = controlnet.controlnet_cond_embedding(probe).abs().mean()
        controlnet.controlnet_cond_embedding.conv_out.weight.mul_(0.5 / strength)
    out = Path(out)
    controlnet.save_pretrained(out)
    return out


def build_tiny_lora(sdxl_folder: Path, out_file: Path, seed: int = 0, rank: int = 4,
                    scale: float = 0.5) -> Path:
    """A random (non-zero) SDXL UNet LoRA for the tiny pipeline, written the way diffusers' training
    scripts write one: peft adapter → get_peft_model_state_dict → save_lora_weights (.safetensors)."""
    import torch
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = UNet2DConditionModel.from_pretrained(Path(sdxl_folder) / "unet")
    torch.manual_seed(seed)
    # init_lora_weights=False: B is random, not zero, so the adapter visibly changes the output.
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False,
                                target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    with torch.no_grad():
        for name, param in unet.named_parameters():
            if "lora_" in name:
                param.mul_(scale)
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(unet))
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    StableDiffusionXLPipeline.save_lora_weights(out_file.parent, unet_lora_layers=layers, weight_name=out_file.name)
    return out_file
