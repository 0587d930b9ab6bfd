"""A synthetic film that talks: colour scenes (tests.synthetic_media) with espeak-ng lines placed at given times."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.synthetic_media import SceneSpec, make_video


def make_talking_film(path: Path, scenes: list[SceneSpec], lines: list[tuple[str, float]], *,
                      size: tuple[int, int] = (160, 90), fps: float = 24, voice: str = "en-us") -> Path:
    """`scenes` back to back; each (text, start_s) spoken from start_s over a quiet 110 Hz hum (a soundtrack)."""
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng is not installed")
    path = Path(path)
    silent = make_video(path.with_name(path.stem + ".silent.mp4"), scenes, size=size, fps=fps, audio=False)
    total = sum(s.seconds for s in scenes)
    inputs: list[str] = []
    filters: list[str] = []
    for i, (text, start) in enumerate(lines):
        wav = path.with_name(f"{path.stem}.line{i}.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True, capture_output=True)
        inputs += ["-i", str(wav)]
        filters.append(f"[{i + 1}:a]aresample=48000,adelay={int(start * 1000)}:all=1[l{i}]")
    hum = f"aevalsrc=0.02*sin(2*PI*110*t):s=48000:d={total}[hum]"
    mix = "".join(f"[l{i}]" for i in range(len(lines))) + f"[hum]amix=inputs={len(lines) + 1}:normalize=0:duration=longest,"
    mix += f"atrim=duration={total},aformat=channel_layouts=stereo[a]"
    graph = ";".join([hum, *filters, mix])
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-i", str(silent), *inputs, "-filter_complex", graph,
                    "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "aac", "-b:a", "96k", str(path)],
                   check=True, capture_output=True)
    return path
