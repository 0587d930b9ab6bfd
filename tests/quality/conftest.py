"""Synthetic media for the quality scorers, made with ffmpeg lavfi sources (known defects, known places)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tools.core.settings import settings_from_dict

if shutil.which("ffmpeg") is None:
    pytest.skip("ffmpeg is not installed", allow_module_level=True)

SIZE = "640x360"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def clip(path: Path, video: str, audio: str | None, seconds: float) -> Path:
    """Encode one lavfi video graph (+ optional audio graph) for `seconds`."""
    args = ["-f", "lavfi", "-i", video]
    if audio:
        args += ["-f", "lavfi", "-i", audio]
    args += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-b:a", "96k"]
    ffmpeg(*args, str(path))
    return path


MOVING = f"testsrc2=size={SIZE}:rate=24"
# A speech-like tone: 220 Hz with a 3 Hz syllable envelope, at a normal level (about -18 LUFS).
VOICE = "aevalsrc='0.35*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*3*t))':s=44100"


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("quality media")
    out: dict[str, Path] = {}
    out["good"] = clip(d / "good clip.mp4", MOVING, VOICE, 4)
    # 1 s picture, 2 s black, 1 s picture
    ffmpeg("-f", "lavfi", "-i", f"{MOVING},trim=0:1,setpts=PTS-STARTPTS[a];color=black:size={SIZE}:rate=24:d=2[b];"
           f"{MOVING},trim=0:1,setpts=PTS-STARTPTS[c];[a][b][c]concat=n=3:v=1:a=0",
           "-f", "lavfi", "-i", VOICE, "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-c:a", "aac", str(d / "black.mp4"))
    out["black"] = d / "black.mp4"
    out["frozen"] = clip(d / "frozen.mp4", f"color=c=0x3060a0:size={SIZE}:rate=24", VOICE, 4)
    out["mute"] = clip(d / "mute.mp4", MOVING, None, 4)
    out["low_res"] = clip(d / "low.mp4", "testsrc2=size=160x90:rate=24", VOICE, 4)
    # audio 2 s shorter than the picture: A/V drift
    ffmpeg("-f", "lavfi", "-i", MOVING, "-f", "lavfi", "-i", VOICE + ":d=2", "-t", "4", "-c:v", "libx264",
           "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(d / "drift.mp4"))
    out["drift"] = d / "drift.mp4"
    out["clipped"] = clip(d / "clipped.mp4", MOVING, "sine=f=440:sample_rate=44100,volume=30dB", 4)
    out["silent"] = clip(d / "silent.mp4", MOVING, "anullsrc=r=44100:cl=mono", 4)
    # voice only in the second half: a line scheduled in the first half is not heard
    out["half"] = clip(d / "half.mp4", MOVING, VOICE + ",volume='if(lt(t,2),0,1)':eval=frame", 4)
    if shutil.which("espeak-ng"):  # real speech at known times (SPOKEN) for the speech scorer
        speech = spoken_track(d, SPOKEN, 4.0)
        out["spoken"] = mux(d / "spoken.mp4", MOVING, speech, 4.0)
        out["spoken_black"] = mux(d / "spoken black.mp4", f"color=black:size={SIZE}:rate=24", speech, 4.0)
    return out


SPOKEN = [("Good morning, Pip!", 0.4), ("Who stole my fish?", 2.0)]


def spoken_track(folder: Path, lines: list[tuple[str, float]], seconds: float, voice: str = "en-us") -> Path:
    """espeak-ng lines placed at their start times over a quiet bed, as one WAV."""
    inputs, parts = [], []
    for k, (text, at) in enumerate(lines):
        wav = folder / f"line{k}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
        inputs += ["-i", str(wav)]
        parts.append(f"[{k}:a]aresample=44100,adelay={int(at * 1000)}:all=1[l{k}]")
    mix = "".join(f"[l{k}]" for k in range(len(lines)))
    out = folder / "spoken.wav"
    ffmpeg(*inputs, "-filter_complex", ";".join(parts) + f";{mix}amix=inputs={len(lines)}:normalize=0,"
           f"apad=whole_dur={seconds}[a]", "-map", "[a]", "-t", str(seconds), str(out))
    return out


def mux(path: Path, video: str, audio: Path, seconds: float) -> Path:
    ffmpeg("-f", "lavfi", "-i", video, "-i", str(audio), "-t", str(seconds), "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(path))
    return path


@pytest.fixture()
def settings():
    return settings_from_dict({"quality": {"target_lufs": -18.0}})
