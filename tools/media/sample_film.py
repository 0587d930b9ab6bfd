""""The Tide Keeper": a short film the project animates itself, so demos and tests own their footage.

Five scenes with hard cuts and distinct palettes (title, ocean, forest, night harbour, sunset), simple
characters with faces (Pip, Captain Brine, Gull) and a soundtrack (waves, birds, a melody). Frames are
drawn with numpy/OpenCV and piped as rawvideo into ffmpeg (libx264 yuv420p + AAC). Everything is
seeded, so the same arguments give the same film. A JSON sidecar holds the ground-truth scene list.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
from pydantic import BaseModel

from tools.core.child_processes import Child
from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.settings.loader import resolve_path
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.ffmpeg import require_binary
from tools.media.sample_audio import SAMPLE_RATE, render_soundtrack
from tools.media.sample_scenes import SCENES, SceneSpec
from tools.media.wav import write_wav

TITLE = "The Tide Keeper"


class SceneTruth(BaseModel):
    index: int
    name: str
    start: float
    end: float
    characters: list[str]
    description: str


class FilmTruth(BaseModel):
    title: str
    duration: float
    width: int
    height: int
    fps: float
    seed: int
    scenes: list[SceneTruth]


def sidecar_path(film: Path) -> Path:
    return film.with_suffix(".scenes.json")


def scene_frames(duration_s: float, fps: float) -> list[tuple[SceneSpec, int, int]]:
    """Split the film's frames between the scenes by their shares (boundaries on whole frames)."""
    total = int(round(duration_s * fps))
    bounds = np.round(np.cumsum([0.0] + [s.share for s in SCENES]) / sum(s.share for s in SCENES) * total)
    return [(spec, int(a), int(b)) for spec, a, b in zip(SCENES, bounds[:-1], bounds[1:])]


def _validate(duration_s: float, width: int, height: int, fps: float) -> None:
    if not 5.0 <= duration_s <= 600.0:
        raise ToolError(f"duration_s={duration_s} is out of range", "use 5 to 600 seconds")
    if width % 2 or height % 2 or not (160 <= width <= 3840 and 90 <= height <= 2160):
        raise ToolError(f"size {width}x{height} is not usable", "use even sizes between 160x90 and 3840x2160")
    if not 6 <= fps <= 60:
        raise ToolError(f"fps={fps} is out of range", "use 6 to 60 frames per second")


def make_sample_film(out: Path, duration_s: float = 40.0, width: int = 640, height: int = 360, fps: int = 24,
                     seed: int = 7, on_frame: Callable[[int], None] | None = None,
                     ffmpeg: str = "ffmpeg") -> Path:
    """Render the film to `out` (.mp4) and its ground truth to `<out>.scenes.json`; return `out`."""
    _validate(duration_s, width, height, fps)
    exe = require_binary(ffmpeg, "video.ffmpeg")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    plan = scene_frames(duration_s, fps)
    n_frames = plan[-1][2]
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="tide_keeper_") as tmp:
        wav = Path(tmp) / "soundtrack.wav"
        audio_plan = [(spec.name, a / fps, b / fps) for spec, a, b in plan]
        write_wav(wav, render_soundtrack(audio_plan, n_frames / fps, seed=seed), SAMPLE_RATE)
        partial = out.with_name(f".{out.stem}.partial.mp4")
        args = [exe, "-hide_banner", "-loglevel", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-framerate", str(fps),
                "-i", "pipe:0", "-i", str(wav), "-map", "0:v", "-map", "1:a",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
                "-g", str(int(fps * 2)), "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
                "-shortest", str(partial)]
        errlog = Path(tmp) / "ffmpeg.log"
        with errlog.open("wb") as err, Child(args, what="ffmpeg (sample film)", stdin=True, stdout="devnull",
                                             stderr=err) as child:
            try:
                for spec, start, end in plan:
                    painter = spec.painter(width, height, np.random.default_rng(rng.integers(1 << 31)))
                    for i in range(start, end):
                        child.proc.stdin.write(painter((i - start) / fps).tobytes())  # type: ignore[union-attr]
                        if on_frame:
                            on_frame(i)
                child.proc.stdin.close()  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
            child.wait()
        failure = child.failure(errlog.read_bytes())
        if failure is not None or not partial.exists():
            partial.unlink(missing_ok=True)
            if failure is not None and failure.reason != "exit":
                raise failure
            tail = errlog.read_text(errors="replace").strip().splitlines()[-4:]
            raise ToolError("ffmpeg could not encode the sample film: " + " | ".join(tail),
                            "check that ffmpeg has libx264 and aac (apt-get install ffmpeg)")
        os.replace(partial, out)
    truth = FilmTruth(title=TITLE, duration=round(n_frames / fps, 3), width=width, height=height, fps=fps,
                      seed=seed, scenes=[SceneTruth(index=k, name=spec.name, start=round(a / fps, 3),
                                                    end=round(b / fps, 3), characters=list(spec.characters),
                                                    description=spec.description)
                                         for k, (spec, a, b) in enumerate(plan)])
    sidecar_path(out).write_text(truth.model_dump_json(indent=2), encoding="utf-8")
    return out


class SampleFilmResult(ToolResult):
    path: str
    duration: float
    scenes: list[SceneTruth]
    reused: bool = False

    def summary(self) -> str:
        names = ", ".join(f"{s.name} {s.start:.1f}-{s.end:.1f}s" for s in self.scenes)
        return f"{Path(self.path).name} ({self.duration:.1f}s{', reused' if self.reused else ''}): {names}"


@tool(family="media", name="make_sample_film")
def make_sample_film_tool(ctx: ToolContext, name: str = "the_tide_keeper", duration_s: float = 40.0,
                          overwrite: bool = False) -> SampleFilmResult:
    """Create the sample film "The Tide Keeper" (ocean, forest, night harbour, sunset; characters Pip,
    Captain Brine and Gull) in the film library (paths.samples_dir), with its ground-truth scene list.

    Args:
        name: File name without extension, letters/digits/_/- only.
        duration_s: Length in seconds (5-600); the five scenes share it.
        overwrite: Render again even if a film with the same name and length exists.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise ToolError(f"invalid film name {name!r}", "use letters, digits, '_' and '-' (no extension)")
    out = resolve_path(ctx.settings.paths.samples_dir) / f"{name}.mp4"
    truth_file = sidecar_path(out)
    reused = False
    if out.exists() and truth_file.exists() and not overwrite:
        try:
            truth = FilmTruth.model_validate_json(truth_file.read_text(encoding="utf-8"))
            reused = abs(truth.duration - duration_s) < 0.5
        except ValueError:
            reused = False
    if not reused:
        fps = 24
        total = int(round(duration_s * fps))
        with ctx.progress.task(f"Rendering {TITLE}", total=total) as task:
            make_sample_film(out, duration_s=duration_s, fps=fps, ffmpeg=ctx.settings.video.ffmpeg,
                             on_frame=lambda i: task.update(completed=i + 1) if (i + 1) % 12 == 0 else None)
        truth = FilmTruth.model_validate_json(truth_file.read_text(encoding="utf-8"))
    rel = ctx.workspace.relative(out)
    return SampleFilmResult(
        path=str(out), duration=truth.duration, scenes=truth.scenes, reused=reused,
        artifacts=[Artifact(path=rel, kind="video", metadata={"title": TITLE, "duration": truth.duration,
                                                              "scenes": str(truth_file)})],
    )


def load_truth(film: Path) -> FilmTruth:
    """Read a film's ground-truth sidecar (for tests and benchmarks of scene detection)."""
    path = sidecar_path(Path(film))
    if not path.exists():
        raise ToolError(f"no ground truth next to {Path(film).name}", "render it with make_sample_film")
    return FilmTruth.model_validate(json.loads(path.read_text(encoding="utf-8")))
