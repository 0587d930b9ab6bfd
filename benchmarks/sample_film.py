"""Benchmark: rendering "The Tide Keeper" vs ffmpeg encoding the same frames from its own test source.

Anchor: `ffmpeg -f lavfi testsrc2` encoded with the same settings (libx264 veryfast crf 20 + AAC of a sine),
i.e. the cost of encoding alone. Our ratio says how much drawing and the soundtrack add on top of it.
Goal: at most 3x the encode-only time (and, in absolute terms, < 20 s for 40 s at 640x360 on 2 cores).

    .venv/bin/python benchmarks/sample_film.py [--duration 40]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.media.sample_film import make_sample_film  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=40.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24",
                        "-f", "lavfi", "-i", "sine=f=440:sample_rate=44100", "-t", str(args.duration),
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "128k", str(Path(tmp) / "anchor.mp4")], check=True)
        anchor = time.perf_counter() - start
        start = time.perf_counter()
        make_sample_film(Path(tmp) / "ours.mp4", duration_s=args.duration)
        ours = time.perf_counter() - start
    ratio = ours / anchor
    print(f"duration_s={args.duration:g} frames={int(args.duration * 24)} size=640x360")
    print(f"anchor_encode_only_s={anchor:.2f} ours_render_s={ours:.2f} ours_realtime_factor={args.duration / ours:.1f}x")
    ok = ratio <= 3.0 and (args.duration != 40 or ours < 20)
    print(f"BENCH sample_film: ratio={ratio:.2f} goal<=3 {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
