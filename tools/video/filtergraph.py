"""Compile an EDL into ONE ffmpeg filter graph (inputs + graph text + output duration).

Every clip is its own input opened with `-ss/-t` (fast seeking: only the needed part is decoded),
normalised to the output size/fps/sample format, then clips are joined with concat or xfade /
acrossfade. Text overlays are drawtext filters, subtitles an ASS file burned with libass, and the
sound is a mix of the (ducked) original with voices, music and generated effects, normalised to
the loudness target.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tools.video.edl import EDL, Clip, FreezeFrame, Point, TextOverlay, TextStyle, TitleCard, Zoom
from tools.video.ffescape import esc
from tools.video.sfx import effect_chain

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
RATE = 48000
AFMT = f"aresample={RATE},aformat=sample_fmts=fltp:channel_layouts=stereo"


@dataclass
class SourceInfo:
    path: Path
    duration: float
    has_audio: bool
    has_video: bool


@dataclass
class Compiled:
    input_args: list[str]
    graph: str
    duration: float
    cut_times: list[float]  # timeline seconds where each segment after the first begins
    text_files: dict[str, str] = field(default_factory=dict)  # name → content, written next to the script


def segment_duration(seg) -> float:
    if isinstance(seg, Clip):
        assert seg.end is not None
        return (seg.end - seg.start) / seg.speed
    return seg.duration


def _atempo(speed: float) -> str:
    parts, s = [], speed
    while s > 2.0:  # atempo takes 0.5–2.0 per instance
        parts.append("atempo=2.0")
        s /= 2.0
    while s < 0.5:
        parts.append("atempo=0.5")
        s /= 0.5
    if abs(s - 1.0) > 1e-6:
        parts.append(f"atempo={s:.6f}")
    return ",".join(parts)


def _zoompan(z: Zoom, w: int, h: int, fps: float) -> str:
    frames = max(1, round(z.ramp * fps))
    zoom = f"{z.factor}" if z.ramp <= 0 else f"min(1+({z.factor}-1)*on/{frames},{z.factor})"
    return (f"zoompan=z={esc(zoom)}:x={esc(f'(iw-iw/zoom)*{z.x}')}:y={esc(f'(ih-ih/zoom)*{z.y}')}"
            f":d=1:s={w}x{h}:fps={fps}")


def _position(pos: str | Point, margin: str) -> tuple[str, str]:
    if isinstance(pos, Point):
        return f"(w-text_w)*{pos.x}", f"(h-text_h)*{pos.y}"
    x = {"left": margin, "right": f"w-text_w-{margin}"}
    y = {"top": margin, "bottom": f"h-text_h-{margin}"}
    if pos == "center":
        return "(w-text_w)/2", "(h-text_h)/2"
    parts = pos.split("-")
    vy = y.get(parts[0], "(h-text_h)/2")
    vx = x.get(parts[1], "(w-text_w)/2") if len(parts) > 1 else "(w-text_w)/2"
    return vx, vy


def drawtext(text_file: Path, style: TextStyle, height: int, *, position: str | Point = "center",
             start: float | None = None, end: float | None = None, fade: float = 0.0) -> str:
    size = max(6, round(style.size * height))
    x, y = _position(position, f"{round(0.05 * height)}")
    opts = [f"fontfile={esc(FONT_BOLD if style.bold else FONT_REGULAR)}", f"textfile={esc(text_file)}",
            "expansion=none", f"fontsize={size}", f"fontcolor={esc(style.color)}",
            f"borderw={round(style.border * size)}", f"bordercolor={esc(style.border_color)}",
            f"line_spacing={round(size * 0.15)}", f"x={esc(x)}", f"y={esc(y)}"]
    if style.box:
        opts += ["box=1", f"boxcolor={esc(style.box_color)}", f"boxborderw={round(size * 0.3)}"]
    if start is not None and end is not None:
        opts.append(f"enable={esc(f'between(t,{start:.4f},{end:.4f})')}")
        if fade > 0:
            f = min(fade, (end - start) / 2)
            alpha = f"if(lt(t,{start + f:.4f}),(t-{start:.4f})/{f:.4f},if(gt(t,{end - f:.4f}),({end:.4f}-t)/{f:.4f},1))"
            opts.append(f"alpha={esc(alpha)}")
    return "drawtext=" + ":".join(opts)


class _Builder:
    def __init__(self) -> None:
        self.inputs: list[list[str]] = []
        self.chains: list[str] = []
        self.texts: dict[str, str] = {}
        self._n = 0

    def input(self, args: list[str]) -> int:
        self.inputs.append(args)
        return len(self.inputs) - 1

    def label(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def text(self, folder: Path, content: str) -> Path:
        name = f"text_{len(self.texts):03d}.txt"
        self.texts[name] = content
        return folder / name


def compile_edl(edl: EDL, sources: dict[str, SourceInfo], *, width: int, height: int, fps: float,
                work_dir: Path, subtitles_file: Path | None = None) -> Compiled:
    """Build the inputs and the filter graph text. Output pads: [vout] and [aout]."""
    b = _Builder()
    norm = (f"scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1")
    segs: list[tuple[str, str, float]] = []
    for seg in edl.clips:
        d = segment_duration(seg)
        v, a = b.label("v"), b.label("a")
        if isinstance(seg, Clip):
            src = sources[seg.source]
            i = b.input(["-ss", f"{seg.start:.6f}", "-t", f"{seg.end - seg.start + 0.1:.6f}", "-i", f"file:{src.path}"])
            chain = [f"setpts=(PTS-STARTPTS)/{seg.speed:.6f}", norm, f"fps={fps}"]
            if seg.zoom:
                chain.append(_zoompan(seg.zoom, width, height, fps))
            chain += [f"tpad=stop_mode=clone:stop_duration={3 / fps:.4f}", f"trim=duration={d:.6f}",
                      "setpts=PTS-STARTPTS", "format=yuv420p", "settb=AVTB"]
            b.chains.append(f"[{i}:v]" + ",".join(chain) + f"[{v}]")
            if seg.audio and src.has_audio:
                tempo = _atempo(seg.speed)
                achain = ["asetpts=PTS-STARTPTS", *([tempo] if tempo else []), AFMT, f"volume={seg.gain_db}dB",
                          "apad", f"atrim=duration={d:.6f}"]
                b.chains.append(f"[{i}:a]" + ",".join(achain) + f"[{a}]")
            else:
                b.chains.append(f"anullsrc=r={RATE}:cl=stereo,{AFMT},atrim=duration={d:.6f}[{a}]")
        elif isinstance(seg, FreezeFrame):
            src = sources[seg.source]
            i = b.input(["-ss", f"{seg.at:.6f}", "-t", "1", "-i", f"file:{src.path}"])
            chain = ["trim=end_frame=1", "setpts=PTS-STARTPTS", norm,
                     f"tpad=stop_mode=clone:stop_duration={d + 2 / fps:.4f}", f"fps={fps}"]
            if seg.zoom:
                chain.append(_zoompan(seg.zoom, width, height, fps))
            chain += [f"trim=duration={d:.6f}", "setpts=PTS-STARTPTS", "format=yuv420p", "settb=AVTB"]
            b.chains.append(f"[{i}:v]" + ",".join(chain) + f"[{v}]")
            b.chains.append(f"anullsrc=r={RATE}:cl=stereo,{AFMT},atrim=duration={d:.6f}[{a}]")
        else:
            assert isinstance(seg, TitleCard)
            tf = b.text(work_dir, seg.text)
            b.chains.append(f"color=c={esc(seg.background)}:s={width}x{height}:r={fps}:d={d:.6f},format=yuv420p,"
                            + drawtext(tf, seg.style, height, position="center") + f",setsar=1,settb=AVTB[{v}]")
            b.chains.append(f"anullsrc=r={RATE}:cl=stereo,{AFMT},atrim=duration={d:.6f}[{a}]")
        segs.append((v, a, d))

    # Join: concat for hard cuts, xfade/acrossfade where the next segment asks for a transition.
    cur_v, cur_a, total = segs[0]
    cut_times: list[float] = []
    for seg, (v, a, d) in zip(edl.clips[1:], segs[1:]):
        nv, na = b.label("jv"), b.label("ja")
        t = seg.transition
        if t:
            cut_times.append(total - t.duration / 2)
            b.chains.append(f"[{cur_v}][{v}]xfade=transition={t.kind}:duration={t.duration:.4f}"
                            f":offset={total - t.duration:.6f}[{nv}]")
            b.chains.append(f"[{cur_a}][{a}]acrossfade=d={t.duration:.4f}:c1=tri:c2=tri[{na}]")
            total += d - t.duration
        else:
            cut_times.append(total)
            b.chains.append(f"[{cur_v}][{cur_a}][{v}][{a}]concat=n=2:v=1:a=1[{nv}][{na}]")
            total += d
        cur_v, cur_a = nv, na

    # Picture on top of the joined video: fades, text overlays, burned subtitles.
    post: list[str] = []
    if edl.fade_in > 0:
        post.append(f"fade=t=in:st=0:d={edl.fade_in:.4f}")
    if edl.fade_out > 0:
        post.append(f"fade=t=out:st={max(0.0, total - edl.fade_out):.4f}:d={edl.fade_out:.4f}")
    for ov in edl.overlays:
        post.append(_overlay(b, ov, work_dir, height, total))
    if subtitles_file is not None:
        post.append(f"subtitles=filename={esc(subtitles_file)}:fontsdir={esc(FONT_DIR)}")
    post.append("format=yuv420p")
    b.chains.append(f"[{cur_v}]" + ",".join(post) + "[vout]")

    _audio_mix(b, edl, sources, cur_a, total)
    args: list[str] = []
    for inp in b.inputs:
        args += inp
    return Compiled(input_args=args, graph=";\n".join(b.chains), duration=total, cut_times=cut_times,
                    text_files=b.texts)


def _overlay(b: _Builder, ov: TextOverlay, work_dir: Path, height: int, total: float) -> str:
    tf = b.text(work_dir, ov.text)
    return drawtext(tf, ov.style, height, position=ov.position, start=ov.start, end=min(ov.end, total), fade=ov.fade)


def _audio_mix(b: _Builder, edl: EDL, sources: dict[str, SourceInfo], original: str, total: float) -> None:
    orig = b.label("orig")
    b.chains.append(f"[{original}]volume={edl.original_gain_db}dB[{orig}]")
    voices: list[str] = []
    others: list[str] = []
    for track in edl.audio:
        lab = b.label("t")
        if track.effect:
            chain, d = effect_chain(track.effect, track.duration)
            head = chain
        else:
            src = sources[track.source]
            length = (track.end if track.end is not None else src.duration) - track.start
            d = length
            i = b.input(["-ss", f"{track.start:.6f}", "-t", f"{length:.6f}", "-i", f"file:{src.path}"])
            head = f"[{i}:a]asetpts=PTS-STARTPTS,{AFMT}"
        parts = [head, f"volume={track.gain_db}dB"]
        if track.fade_in > 0:
            parts.append(f"afade=t=in:st=0:d={track.fade_in:.4f}")
        if track.fade_out > 0:
            parts.append(f"afade=t=out:st={max(0.0, d - track.fade_out):.4f}:d={track.fade_out:.4f}")
        delay = int(round(track.at * 1000))
        parts += [f"adelay=delays={delay}:all=1", "apad", f"atrim=duration={total:.6f}"]
        b.chains.append(",".join(parts) + f"[{lab}]")
        (voices if track.role == "voice" else others).append(lab)

    bed = orig
    if voices:
        vmix = b.label("vox")
        if len(voices) > 1:
            b.chains.append("".join(f"[{v}]" for v in voices) + f"amix=inputs={len(voices)}:normalize=0:duration=first[{vmix}]")
        else:
            b.chains.append(f"[{voices[0]}]anull[{vmix}]")
        if edl.duck.enabled:
            key, vox = b.label("key"), b.label("vox")
            ducked = b.label("ducked")
            b.chains.append(f"[{vmix}]asplit=2[{key}][{vox}]")
            dk = edl.duck
            b.chains.append(f"[{orig}][{key}]sidechaincompress=threshold={dk.threshold}:ratio={dk.ratio}"
                            f":attack={dk.attack_ms}:release={dk.release_ms}:makeup=1[{ducked}]")
            bed, others = ducked, [vox, *others]
        else:
            others = [vmix, *others]
    mixed = b.label("mix")
    if others:
        b.chains.append(f"[{bed}]" + "".join(f"[{o}]" for o in others)
                        + f"amix=inputs={1 + len(others)}:normalize=0:duration=first[{mixed}]")
    else:
        b.chains.append(f"[{bed}]anull[{mixed}]")
    post: list[str] = []
    if edl.fade_in > 0:
        post.append(f"afade=t=in:st=0:d={edl.fade_in:.4f}")
    if edl.fade_out > 0:
        post.append(f"afade=t=out:st={max(0.0, total - edl.fade_out):.4f}:d={edl.fade_out:.4f}")
    if edl.loudness_lufs is not None:
        post.append(f"loudnorm=I={edl.loudness_lufs}:TP=-1.5:LRA=11")
    post += [AFMT, f"atrim=duration={total:.6f}"]
    b.chains.append(f"[{mixed}]" + ",".join(post) + "[aout]")
