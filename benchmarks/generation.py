"""Generation benchmark: the generate_image tool against calling diffusers directly, and TTS speed.

Default (CPU, what CI machines can run): a tiny SDXL-architecture pipeline built from configs.
Both paths use the *same* loaded pipeline, so the ratio is the tool's own overhead (argument
validation, sandboxing, scheduler, LoRA bookkeeping, progress, PNG metadata) — goal ≤ 1.05×.
On CPU, torch runs one thread and the ratio uses process CPU time: the shared 2-core machines
this runs on are too noisy for wall time (raw wall times are printed too). On CUDA it uses wall
time after synchronisation. The ratio compares the fastest of the interleaved repetitions (as
timeit does: noise only ever adds time); medians are printed beside it.
TTS: seconds of speech per second of wall time through synthesize_speech with espeak-ng (+ ffmpeg finishing)
beside raw espeak-ng on the same lines.

`--full` (GPU): builds full-size SDXL from its published architecture (random weights, nothing
downloaded), then measures 1024², 30 steps, fp16: seconds per image and peak VRAM for base,
+LoRA (rank 32) and +LoRA+ControlNet, plus the same tool/direct ratio.

    .venv/bin/python benchmarks/generation.py            # tiny, CPU
    .venv/bin/python benchmarks/generation.py --full     # full size, CUDA
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LINES = ["The gull stole my chips again, and the captain laughed at me.",
         "Ahoy there, little one! Have you seen my hat? It blew away in the storm last night.",
         "Pip swam down to the reef, where the old crab kept his treasure."]


def build_full_sdxl(folder: Path) -> Path:
    """Full-size SDXL base 1.0 architecture (published configs), random fp16 weights."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from tests.tiny_models import write_tiny_clip_tokenizer

    unet = UNet2DConditionModel(
        sample_size=128, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20), cross_attention_dim=2048,
        use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
        projection_class_embeddings_input_dim=2816, norm_num_groups=32).to(torch.float16)
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                        layers_per_block=2, sample_size=1024, scaling_factor=0.13025, force_upcast=True)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = CLIPTokenizer.from_pretrained(write_tiny_clip_tokenizer(Path(tmp)))
    ids = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
               pad_token_id=tokenizer.pad_token_id, vocab_size=49408, max_position_embeddings=77)
    te1 = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                                       num_hidden_layers=12, projection_dim=768, hidden_act="quick_gelu", **ids))
    te2 = CLIPTextModelWithProjection(CLIPTextConfig(hidden_size=1280, intermediate_size=5120, num_attention_heads=20,
                                                     num_hidden_layers=32, projection_dim=1280, hidden_act="gelu", **ids))
    sched = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                   steps_offset=1, timestep_spacing="leading")
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=te1, text_encoder_2=te2, tokenizer=tokenizer,
                                     tokenizer_2=tokenizer, unet=unet, scheduler=sched)
    pipe.to(torch.float16).save_pretrained(folder)
    return folder


def make_context(models: dict[str, Path], size: int, steps: int, device: str, work: Path):
    import yaml

    from tools.core.context import make_context as mk
    from tools.core.settings.loader import settings_from_dict
    from tools.core.workspace import Workspace

    loras = work / "loras.yaml"
    loras.write_text(yaml.safe_dump({"loras": [{"name": "bench", "path": str(models["lora"]), "kind": "style"}]}))
    settings = settings_from_dict({"image": {
        "sdxl_model_path": str(models["sdxl"]), "controlnet_paths": {"canny": str(models["canny"])},
        "loras_file": str(loras), "steps": steps, "width": size, "height": size, "scheduler": "euler",
        "device": device, "guidance_scale": 5.0}})
    return mk(settings, workspace=Workspace(work / "run"))


def control_source(path: Path, size: int) -> str:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), "black")
    ImageDraw.Draw(img).ellipse((size // 5, size // 5, size * 4 // 5, size * 4 // 5), outline="white", width=size // 32)
    img.save(path)
    return path.name


def time_tool_vs_direct(ctx, size: int, steps: int, reps: int) -> tuple[list[float], list[float]]:
    import torch

    from tools.core.registry import invoke
    from tools.image.pipeline import handle_for

    args = {"prompt": "a sea monster boy on a boat", "seed": 1, "steps": steps, "width": size, "height": size}
    assert invoke("generate_image", args, ctx).ok  # warm-up: load + first-call kernels
    pipe = handle_for(ctx).pipe
    cuda = torch.cuda.is_available() and ctx.settings.image.device != "cpu"
    clock = time.perf_counter if cuda else time.process_time
    tool_s, direct_s, wall = [], [], []
    for i in range(reps):  # interleaved so machine noise hits both alike
        t, w = clock(), time.perf_counter()
        out = invoke("generate_image", {**args, "seed": i}, ctx)
        if cuda:
            torch.cuda.synchronize()
        tool_s.append(clock() - t)
        wall.append(time.perf_counter() - w)
        assert out.ok, out.observation()
        t, w = clock(), time.perf_counter()
        image = pipe(prompt=args["prompt"], num_inference_steps=steps, width=size, height=size, guidance_scale=5.0,
                     generator=torch.Generator("cpu").manual_seed(i)).images[0]
        image.save(ctx.workspace.root / f"direct_{i}.png")
        if cuda:
            torch.cuda.synchronize()
        direct_s.append(clock() - t)
        wall.append(time.perf_counter() - w)
    print(f"  ({'wall' if cuda else 'CPU'} time; raw wall times tool/direct alternating: "
          + " ".join(f"{x:.2f}" for x in wall) + ")")
    return tool_s, direct_s


def bench_tts(work: Path) -> None:
    import tools.audio.tts  # noqa: F401
    from tools.core.context import make_context as mk
    from tools.core.registry import invoke
    from tools.core.settings.loader import settings_from_dict
    from tools.core.workspace import Workspace

    ctx = mk(settings_from_dict({"tts": {"backend": "espeak"}}), workspace=Workspace(work / "tts"))
    audio = wall = raw_audio = raw_wall = 0.0
    for i, line in enumerate(LINES):
        t = time.perf_counter()
        out = invoke("synthesize_speech", {"text": line, "output_name": f"line{i}"}, ctx)
        wall += time.perf_counter() - t
        audio += out.result["duration"]
        t = time.perf_counter()
        wav = work / f"raw{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "-v", "en-us", "--stdin"], input=line.encode(), check=True)
        raw_wall += time.perf_counter() - t
        import wave

        with wave.open(str(wav)) as w:
            raw_audio += w.getnframes() / w.getframerate()
    print(f"tts tool (espeak-ng + finishing): {audio:.2f}s audio in {wall:.2f}s wall = {audio / wall:.1f}x realtime")
    print(f"tts raw espeak-ng:               {raw_audio:.2f}s audio in {raw_wall:.2f}s wall = {raw_audio / raw_wall:.1f}x realtime")


def full(work: Path, reps: int) -> float:
    import torch

    from tests.tiny_models import build_tiny_controlnet, build_tiny_lora
    from tools.core.registry import invoke
    from tools.image.pipeline import handle_for

    if not torch.cuda.is_available():
        sys.exit("--full needs a CUDA GPU")
    t = time.perf_counter()
    models = {"sdxl": build_full_sdxl(work / "sdxl")}
    models["canny"] = build_tiny_controlnet(models["sdxl"], work / "controlnet", weight_scale=0.02)
    models["lora"] = build_tiny_lora(models["sdxl"], work / "lora" / "bench.safetensors", rank=32, scale=0.1)
    print(f"built full-size SDXL + ControlNet + LoRA in {time.perf_counter() - t:.0f}s")
    ctx = make_context(models, 1024, 30, "cuda", work)
    tool_s, direct_s = time_tool_vs_direct(ctx, 1024, 30, reps)
    print(f"full 1024² 30 steps: tool median {statistics.median(tool_s):.2f}s (min {min(tool_s):.2f}), "
          f"direct {statistics.median(direct_s):.2f}s (min {min(direct_s):.2f})")
    ctrl = control_source(ctx.workspace.root / "control.png", 1024)
    for label, extra in [("base", {}), ("+lora", {"loras": ["bench:0.8"]}),
                         ("+lora+controlnet", {"loras": ["bench:0.8"], "control_image": ctrl})]:
        handle_for(ctx).unload()
        torch.cuda.reset_peak_memory_stats()
        t = time.perf_counter()
        out = invoke("generate_image", {"prompt": "a boat", "seed": 1, **extra}, ctx)
        assert out.ok, out.observation()
        print(f"{label:18s}: {time.perf_counter() - t:6.2f}s (incl. load), peak VRAM "
              f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    return min(tool_s) / min(direct_s)


def tiny(work: Path, reps: int) -> float:
    import torch

    from tests.tiny_models import build_tiny_controlnet, build_tiny_lora, build_tiny_sdxl

    torch.set_num_threads(1)  # CPU time then measures work, not threads spinning on a busy machine
    models = {"sdxl": build_tiny_sdxl(work / "sdxl")}
    models["canny"] = build_tiny_controlnet(models["sdxl"], work / "controlnet")
    models["lora"] = build_tiny_lora(models["sdxl"], work / "lora" / "bench.safetensors")
    ctx = make_context(models, 128, 8, "cpu", work)
    tool_s, direct_s = time_tool_vs_direct(ctx, 128, 8, reps)
    print("tiny SDXL 128² 8 steps, CPU fp32, 1 thread, same loaded pipeline (CPU seconds per image):")
    for label, xs in (("tool  ", tool_s), ("direct", direct_s)):
        print(f"  {label} s/image:", " ".join(f"{x:.3f}" for x in xs),
              f"min {min(xs):.3f} median {statistics.median(xs):.3f}")
    print(f"  median ratio {statistics.median(tool_s) / statistics.median(direct_s):.3f}")
    return min(tool_s) / min(direct_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full-size SDXL on a CUDA GPU")
    parser.add_argument("--reps", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-generation-") as tmp:
        work = Path(tmp)
        ratio = full(work, args.reps) if args.full else tiny(work, args.reps)
        bench_tts(work)
    verdict = "PASS" if ratio <= 1.05 else "FAIL"
    print(f"BENCH generation: ratio={ratio:.3f} goal<=1.05 {verdict}")


if __name__ == "__main__":
    main()
