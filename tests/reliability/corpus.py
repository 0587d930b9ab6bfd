"""A corpus of damaged and odd media files, made from scratch with ffmpeg (tiny: 160x90).

Each entry is a name (the row in docs/reliability.md) and the file it writes. Used by the tests
and by benchmarks/robustness.py.
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

SIZE = "160x90"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True, capture_output=True, timeout=120)


def _film(path: Path, seconds: float, *extra: str) -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=24", "-f", "lavfi",
            "-i", "sine=frequency=220:sample_rate=48000", "-t", f"{seconds}", "-c:v", "libx264", "-preset", "ultrafast",
            "-g", "48", "-pix_fmt", "yuv420p", "-c:a", "aac", *extra, "-movflags", "+faststart", str(path))
    return path


def good(folder: Path) -> Path:
    return _film(folder / "good film.mp4", 6)


def truncated(folder: Path) -> Path:
    """The first eighth of a 24 s film: the index still claims 24 s, about 3 s decode."""
    whole = _film(folder / ".whole24.mp4", 24)
    out = folder / "truncated.mp4"
    data = whole.read_bytes()
    out.write_bytes(data[: len(data) // 8])
    whole.unlink()
    return out


def zero_filled_middle(folder: Path) -> Path:
    out = _film(folder / "zero middle.mp4", 8)
    data = bytearray(out.read_bytes())
    a, b = int(len(data) * 0.35), int(len(data) * 0.65)
    data[a:b] = bytes(b - a)
    out.write_bytes(bytes(data))
    return out


def wrong_extension(folder: Path) -> Path:
    """A good MP4 named .wav: the content, not the name, decides."""
    src = _film(folder / ".ext.mp4", 6)
    out = folder / "film really mp4.wav"
    src.rename(out)
    return out


def not_media(folder: Path) -> Path:
    out = folder / "notes.mp4"
    out.write_text("These are my notes about the ocean scene, not a video.\n" * 40, encoding="utf-8")
    return out


def audio_only(folder: Path) -> Path:
    out = folder / "soundtrack only.mp4"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=48000", "-t", "5", "-c:a", "aac", str(out))
    return out


def huge_dimensions(folder: Path) -> Path:
    """A raw-video stream whose header claims 16000x16000 frames (384 MB each) and holds 100 kB."""
    out = folder / "huge frames.y4m"
    out.write_bytes(b"YUV4MPEG2 W16000 H16000 F24:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(100_000))
    return out


def one_frame(folder: Path) -> Path:
    out = folder / "one frame.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=24", "-frames:v", "1", "-c:v", "libx264",
            "-pix_fmt", "yuv420p", str(out))
    return out


def variable_frame_rate(folder: Path) -> Path:
    """Frames 1/24 s apart for 2 s, then 1/8 s apart: a variable frame rate, with sound."""
    out = folder / "variable rate.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size={SIZE}:rate=24", "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=48000", "-t", "6",
            "-vf", "setpts='if(lt(N,48),N/24,2+(N-48)/8)/TB'", "-fps_mode", "vfr", "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out))
    return out


CORPUS: dict[str, Callable[[Path], Path]] = {
    "good": good, "truncated": truncated, "zero-filled middle": zero_filled_middle,
    "wrong extension": wrong_extension, "not media": not_media, "audio only": audio_only,
    "huge dimensions": huge_dimensions, "one frame": one_frame, "variable frame rate": variable_frame_rate,
}


def build_corpus(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {name: make(folder) for name, make in CORPUS.items()}
