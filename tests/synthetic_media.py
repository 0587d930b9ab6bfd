"""Short synthetic test videos built with ffmpeg's lavfi sources (no downloaded assets).

Reuse these in any test that needs a film: every scene is a solid or animated colour field with a
hard cut between scenes, so cut frames are known exactly, and an optional sine tone gives an audio
track whose level is known.

    from tests.synthetic_media import make_video, SceneSpec, OCEAN, FOREST
    film = make_video(tmp_path / "film.mp4", [OCEAN, FOREST], size=(160, 90), fps=24)
    # cuts at frame 24 (scene length 1.0 s each), 440 Hz tone peaking at -12 dBFS

Scenes use `kind`:
  "solid"    a flat colour (plus a little noise so encoders keep it honest);
  "moving"   the colour field with a drifting test pattern over it (motion energy > 0);
  "ocean"    blue-cyan water in the lower 2/3 with light-blue sky on top, with waves moving;
  "forest"   green vegetation with a darker green band, slowly moving;
  "night"    a dark blue-black frame with a few warm window lights;
  "sunset"   warm orange-red gradient.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SceneSpec:
    kind: str = "solid"
    color: str = "gray"
    seconds: float = 1.0
    tone_hz: float | None = 440.0  # None → silence in this scene (when the film has audio)
    tone_db: float = -12.0


OCEAN = SceneSpec("ocean", seconds=1.0)
FOREST = SceneSpec("forest", seconds=1.0)
NIGHT = SceneSpec("night", seconds=1.0)
SUNSET = SceneSpec("sunset", seconds=1.0)


def _scene_source(spec: SceneSpec, w: int, h: int, fps: float) -> str:
    d = spec.seconds
    base = f"s={w}x{h}:r={fps}:d={d}"
    if spec.kind == "solid":
        return f"color=c={spec.color}:{base},noise=alls=3:allf=t"
    if spec.kind == "moving":
        return (f"color=c={spec.color}:{base}[bg{{i}}];testsrc2=s={w // 3}x{h // 3}:r={fps}:d={d}[fg{{i}}];"
                f"[bg{{i}}][fg{{i}}]overlay=x='mod(t*{w},{w})':y={h // 3}")
    if spec.kind == "ocean":
        # Sky (light blue) on top third, sea (deep blue-cyan) below, with moving wave stripes.
        return (f"color=c=0x1E6FB0:{base},"
                f"geq=r='if(lt(Y,H/3),135,20+20*sin(X/6+T*8))':"
                f"g='if(lt(Y,H/3),200,110+30*sin(X/6+T*8+Y/5))':"
                f"b='if(lt(Y,H/3),240,170+30*sin(Y/4-T*6))'")
    if spec.kind == "forest":
        return (f"color=c=0x2E7D32:{base},"
                f"geq=r='30+15*sin(X/3+T*2)':g='if(lt(Y,H/4),80,120+40*sin(X/5+Y/7+T*3))':b='25+10*sin(Y/3)'")
    if spec.kind == "night":
        return (f"color=c=0x0A0C18:{base},"
                f"geq=r='if(lt(mod(X,16),3)*lt(mod(Y,12),3)*gt(Y,H/2),255,12)':"
                f"g='if(lt(mod(X,16),3)*lt(mod(Y,12),3)*gt(Y,H/2),190,12)':"
                f"b='if(lt(mod(X,16),3)*lt(mod(Y,12),3)*gt(Y,H/2),60,28)'")
    if spec.kind == "sunset":
        return f"color=c=0xF08030:{base},geq=r='250':g='80+100*Y/H':b='40+20*Y/H'"
    raise ValueError(f"unknown synthetic scene kind {spec.kind!r}")


def make_video(path: Path, scenes: list[SceneSpec], *, size: tuple[int, int] = (160, 90), fps: float = 24,
               audio: bool = True, gop: int | None = None, sample_rate: int = 48000) -> Path:
    """Encode `scenes` back to back (hard cuts) into an H.264/AAC MP4 at `path`.

    Cut k happens at frame sum(round(seconds_i * fps) for i < k). `gop` sets the keyframe
    interval (default: one keyframe a second).
    """
    w, h = size
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parts: list[str] = []
    for i, spec in enumerate(scenes):
        src = _scene_source(spec, w, h, fps).replace("{i}", str(i))
        parts.append(f"{src},format=yuv420p,setsar=1[v{i}]")
        if audio:
            if spec.tone_hz is None:
                parts.append(f"anullsrc=r={sample_rate}:cl=stereo,atrim=duration={spec.seconds}[a{i}]")
            else:
                amp = 10 ** (spec.tone_db / 20)  # peak amplitude: RMS is 3 dB lower
                parts.append(f"aevalsrc={amp:.5f}*sin(2*PI*{spec.tone_hz}*t):s={sample_rate}:d={spec.seconds},"
                             f"aformat=channel_layouts=stereo[a{i}]")
    pads = "".join(f"[v{i}]" + (f"[a{i}]" if audio else "") for i in range(len(scenes)))
    parts.append(f"{pads}concat=n={len(scenes)}:v=1:a={1 if audio else 0}" + ("[v][a]" if audio else "[v]"))
    args = ["ffmpeg", "-y", "-v", "error", "-filter_complex", ";".join(parts), "-map", "[v]"]
    if audio:
        args += ["-map", "[a]", "-c:a", "aac", "-b:a", "96k"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
             "-g", str(gop or int(round(fps))), "-r", str(fps), str(path)]
    subprocess.run(args, check=True, capture_output=True)
    return path


def cut_frames(scenes: list[SceneSpec], fps: float) -> list[int]:
    """The frame numbers where each scene after the first starts."""
    out, frame = [], 0
    for spec in scenes[:-1]:
        frame += int(round(spec.seconds * fps))
        out.append(frame)
    return out


def make_tone(path: Path, seconds: float = 1.0, hz: float = 660.0, db: float = -6.0) -> Path:
    """A mono WAV sine tone (e.g. a stand-in for a narration clip)."""
    amp = 10 ** (db / 20)
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
                    f"aevalsrc={amp:.5f}*sin(2*PI*{hz}*t):s=48000:d={seconds}", str(path)],
                   check=True, capture_output=True)
    return Path(path)
