"""Benchmark: dataset extract + filter throughput against ffmpeg decode-only of the same film.

Anchor: `ffmpeg -i film -f null -` (decoding every frame and nothing else: the physical limit of
any pipeline that looks at every frame). Ours: scene detection over every frame, keyframe writing,
and quality measurement + decisions. ratio = anchor seconds / our seconds (1.0 = as fast as the
decoder alone); goal >= 0.5. Then a full tiny run (characters → infer, tiny SDXL) with stage timings.

    .venv/bin/python benchmarks/dataset_pipeline.py [--seconds 40] [--width 1280] [--no-train]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dataset import synth
from tools.core.context import make_context
from tools.core.settings.loader import settings_from_dict
from tools.dataset.metadata import DatasetStore


def make_hd_film(path: Path, seconds: float, width: int, fps: int = 24) -> tuple[Path, int]:
    """The synthetic scenes upscaled to `width` with film grain, cut every 1.5 s."""
    height = width * 9 // 16
    n = int(seconds * fps)
    rng = np.random.default_rng(0)
    grain = rng.integers(-6, 7, (height, width, 3), dtype=np.int16)
    proc = subprocess.Popen(["ffmpeg", "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
                             "-s", f"{width}x{height}", "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "veryfast",
                             "-crf", "20", "-pix_fmt", "yuv420p", str(path)], stdin=subprocess.PIPE)
    per_scene = int(1.5 * fps)
    for i in range(n):
        scene = synth.SCENES[(i // per_scene) % len(synth.SCENES)]
        frame = cv2.resize(synth.scene_frame(scene, i), (width, height), interpolation=cv2.INTER_LINEAR)
        frame = np.clip(frame.astype(np.int16) + np.roll(grain, i * 7, axis=1), 0, 255).astype(np.uint8)
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    if proc.wait():
        raise SystemExit("ffmpeg failed to encode the benchmark film")
    return path, n


def ffmpeg_decode_seconds(film: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(film), "-f", "null", "-"], check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--no-train", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dataset-"))
    try:
        film, frames = make_hd_film(tmp / "film.mp4", args.seconds, args.width)
        refs = synth.make_refs(tmp / "refs")
        settings = settings_from_dict({"paths": {"datasets_dir": str(tmp / "datasets"), "runs_dir": str(tmp / "runs")},
                                       "image": {"loras_file": str(tmp / "loras.yaml")},
                                       "dataset": {"extract_mode": "both", "executor": "process"}})
        ctx = make_context(settings)
        from tools.dataset.extract import extract_frames
        from tools.dataset.filter import run_filter

        interval = settings.dataset.interval_s
        anchor, ours, t_extract = float("inf"), float("inf"), 0.0
        for _attempt in range(3):  # best of three for both, alternating: the machine is shared and noisy
            anchor = min(anchor, ffmpeg_decode_seconds(film))
            shutil.rmtree(tmp / "datasets" / "bench", ignore_errors=True)
            store = DatasetStore.open(settings, "bench")
            t0 = time.perf_counter()
            ex = extract_frames(ctx, store, film, "both", interval)
            t1 = time.perf_counter()
            fl = run_filter(ctx, store)
            if time.perf_counter() - t0 < ours:
                ours, t_extract = time.perf_counter() - t0, t1 - t0
        print(f"film: {frames} frames {args.width}x{args.width * 9 // 16}, {args.seconds:.0f} s")
        print(f"ffmpeg decode-only: {anchor:.3f} s ({frames / anchor:.0f} fps)")
        print(f"ours extract: {t_extract:.3f} s ({ex.counts}), filter: {ours - t_extract:.3f} s ({fl.counts}), "
              f"mode both, interval {interval} s, scenes every 1.5 s")
        print(f"ours extract+filter: {ours:.3f} s ({frames / ours:.0f} film fps)")
        stage_times = {"extract": t_extract, "filter": ours - t_extract}
        if not args.no_train:
            stage_times.update(full_tiny_run(ctx, tmp, refs))
        print("stage timings (s): " + ", ".join(f"{k}={v:.2f}" for k, v in stage_times.items()))
        ratio = anchor / ours
        print(f"BENCH dataset_pipeline: ratio={ratio:.2f} goal>=0.5 {'PASS' if ratio >= 0.5 else 'FAIL'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def full_tiny_run(ctx, tmp: Path, refs: Path) -> dict[str, float]:
    """characters → caption → export → train (tiny SDXL, 4 steps) → infer (2 samples), timed."""
    from tests.tiny_models import build_tiny_sdxl
    from tools.core.registry import invoke
    from tools.dataset.caption import run_caption
    from tools.dataset.characters import run_characters
    from tools.dataset.export import run_export

    base = build_tiny_sdxl(tmp / "tiny-sdxl")
    ds = ctx.settings.dataset.model_copy(update={"base_model_path": base, "resolution": 64, "max_steps": 4,
                                                 "checkpoint_every": 2, "rank": 4, "alpha": 4.0, "samples": 2,
                                                 "sample_steps": 2})
    ctx.settings = ctx.settings.model_copy(update={"dataset": ds})
    store_open = lambda: DatasetStore.open(ctx.settings, "bench")
    times: dict[str, float] = {}
    for stage, call in [("characters", lambda: run_characters(ctx, store_open(), refs)),
                        ("caption", lambda: run_caption(ctx, store_open(), "fill")),
                        ("export", lambda: run_export(ctx, store_open(), "both")),
                        ("train", lambda: invoke("dataset_train_lora", {"name": "bench", "character": "alice"}, ctx)),
                        ("infer", lambda: invoke("dataset_infer", {"name": "bench", "character": "alice"}, ctx))]:
        start = time.perf_counter()
        out = call()
        times[stage] = time.perf_counter() - start
        if getattr(out, "ok", True) is False:
            text = f"FAILED: {out.error}"
        else:
            text = out.summary if isinstance(out.summary, str) else out.summary()
        print(f"  {stage}: {times[stage]:.2f} s  {text}")
    return times


if __name__ == "__main__":
    main()
