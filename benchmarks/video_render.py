"""Benchmark: `render_edit` (one ffmpeg filter graph) vs moviepy 2 rendering the same edit.

The edit: four 3 s cuts from a 1280x720 24 fps film, two text overlays, three subtitle lines, a
voice clip with the original sound ducked under it; output 1280x720 24 fps H.264 (preset
veryfast, CRF 20, yuv420p) + AAC, the same encoder settings on both sides. moviepy decodes every
frame into numpy, composites text images in Python and pipes frames back to ffmpeg; we describe
the edit to ffmpeg once. Goal: ours ≥ 5x faster, output durations equal (±0.15 s).

    .venv/bin/pip install --no-deps moviepy decorator imageio imageio-ffmpeg proglog   # or: pip install .[bench]
    .venv/bin/python benchmarks/video_render.py [--film PATH]
"""
from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.core.context import make_context
from tools.core.settings import settings_from_dict
from tools.core.workspace import Workspace
from tools.media.probe import media_info
from tools.video.edl import EDL, AudioTrack, Clip, SubtitleLine, TextOverlay, TextStyle
from tools.video.filtergraph import FONT_BOLD, FONT_REGULAR
from tools.video.render import render

CUTS = [(4.0, 7.0), (12.0, 15.0), (18.0, 21.0), (25.0, 28.0)]
OVERLAYS = [("SPLASH!", 0.5, 2.5), ("Meanwhile, in the forest", 3.5, 5.5)]
SUBS = [("Pip, where are you going?", 1.0, 3.0), ("Into the woods, Captain!", 4.0, 6.0),
        ("Not without your lantern.", 7.0, 9.5)]
VOICE_AT = 6.5


def make_voice(path: Path) -> Path:
    """A spoken line from espeak-ng (installed with the project), or a tone when it is missing."""
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", str(path), "Not without your lantern, young man."], check=True)
    else:
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=f=300:d=2.5", str(path)], check=True)
    return path


def run_ours(film: Path, voice: Path, workdir: Path) -> tuple[float, Path]:
    settings = settings_from_dict({"paths": {"cache_dir": str(workdir / "cache")},
                                   "video": {"preset": "veryfast", "crf": 20}})
    ctx = make_context(settings, Workspace(workdir / "ours", media_roots=[film.parent, voice.parent]))
    edl = EDL(clips=[Clip(source=str(film), start=a, end=b) for a, b in CUTS],
              overlays=[TextOverlay(text=t, start=s, end=e, position="top", style=TextStyle(size=0.08))
                        for t, s, e in OVERLAYS],
              subtitles=[SubtitleLine(text=t, start=s, end=e) for t, s, e in SUBS],
              audio=[AudioTrack(source=str(voice), at=VOICE_AT)], loudness_lufs=None,
              width=1280, height=720, fps=24, output="bench.mp4")
    t = time.perf_counter()
    result = render(ctx, edl)
    return time.perf_counter() - t, ctx.workspace.root / result.path


def run_moviepy(film: Path, voice: Path, workdir: Path) -> tuple[float, Path]:
    from moviepy import (
        AudioFileClip,
        CompositeAudioClip,
        CompositeVideoClip,
        TextClip,
        VideoFileClip,
        concatenate_videoclips,
    )
    from moviepy.audio.fx import MultiplyVolume

    out = workdir / "moviepy.mp4"
    t = time.perf_counter()
    source = VideoFileClip(str(film))
    base = concatenate_videoclips([source.subclipped(a, b) for a, b in CUTS])
    layers = [base]
    for text, s, e in OVERLAYS:
        layers.append(TextClip(font=str(FONT_BOLD), text=text, font_size=58, color="white", stroke_color="black",
                               stroke_width=5).with_start(s).with_duration(e - s).with_position(("center", 36)))
    for text, s, e in SUBS:
        layers.append(TextClip(font=str(FONT_REGULAR), text=text, font_size=43, color="white", stroke_color="black",
                               stroke_width=2).with_start(s).with_duration(e - s).with_position(("center", 620)))
    voice_clip = AudioFileClip(str(voice)).with_start(VOICE_AT)
    ducked = base.audio.with_effects([MultiplyVolume(0.25, start_time=VOICE_AT,
                                                     end_time=VOICE_AT + voice_clip.duration)])
    video = CompositeVideoClip(layers, size=(1280, 720)).with_audio(CompositeAudioClip([ducked, voice_clip]))
    video.write_videofile(str(out), fps=24, codec="libx264", audio_codec="aac", preset="veryfast",
                          ffmpeg_params=["-crf", "20", "-pix_fmt", "yuv420p"], logger=None)
    source.close()
    return time.perf_counter() - t, out


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children (the ffmpeg processes)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--film", type=Path, default=None)
    args = ap.parse_args()
    try:
        import moviepy  # noqa: F401
    except ImportError:
        raise SystemExit("moviepy is not installed: pip install '.[bench]' (or moviepy --no-deps, see the docstring)")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from scene_detection import bench_film as make_film  # the same cached 30 s 720p sample film

    settings = settings_from_dict({})
    film = args.film or make_film(settings)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        voice = make_voice(work / "voice.wav")
        c0 = _cpu()
        ours_t, ours_out = run_ours(film, voice, work)
        c1 = _cpu()
        mp_t, mp_out = run_moviepy(film, voice, work)
        c2 = _cpu()
        d_ours, d_mp = media_info(ours_out).duration, media_info(mp_out).duration
    expected = sum(b - a for a, b in CUTS)
    print(f"film: {film.name}; edit: {len(CUTS)} cuts, {len(OVERLAYS)} overlays, {len(SUBS)} subtitles, ducked voice")
    print(f"render_edit: {ours_t:.2f}s wall, {c1 - c0:.2f}s CPU (with ffmpeg), output {d_ours:.3f}s")
    print(f"moviepy 2:   {mp_t:.2f}s wall, {c2 - c1:.2f}s CPU (with its ffmpeg pipes), output {d_mp:.3f}s")
    print(f"CPU-time ratio: {(c2 - c1) / max(c1 - c0, 1e-6):.2f} (steadier than wall time on a shared machine)")
    print(f"expected duration {expected:.3f}s; durations match: {abs(d_ours - d_mp) <= 0.15}")
    ratio = mp_t / ours_t
    ok = ratio >= 5.0 and abs(d_ours - d_mp) <= 0.15 and abs(d_ours - expected) <= 0.15
    print(f"BENCH render: ratio={ratio:.2f} goal>=5 {'PASS' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
