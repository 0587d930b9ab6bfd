"""Comedic sound effects synthesised with ffmpeg's sources, so a parody needs no downloaded assets.

Each effect is an ffmpeg filter chain (a source + shaping filters) with a natural duration; the
same chain is used inside `render_edit`'s filter graph and by the `make_sound_effect` tool below.
"""
from __future__ import annotations

from dataclasses import dataclass

from tools.core.context import ToolContext
from tools.core.registry import tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.ffmpeg import require_binary, run_tool
from tools.video.ffescape import esc

RATE = 48000


@dataclass(frozen=True)
class Effect:
    description: str
    default_duration: float


EFFECTS: dict[str, Effect] = {
    "boing": Effect("a spring twang: rising pitch with a decaying wobble", 0.8),
    "whoosh": Effect("a swell of filtered noise, as for a fast pass-by or a swipe", 0.7),
    "rimshot": Effect("ba-dum-tss: two drum hits and a cymbal splash (for a punchline)", 1.1),
    "record_scratch": Effect("a vinyl scratch that stops the music", 0.6),
    "sad_trombone": Effect("wah-wah-wah-waaah: four falling notes (for a fail)", 2.2),
    "ding": Effect("a bright bell ding (for an idea or a correct answer)", 1.0),
}


def _eval(expr: str, d: float) -> str:
    return f"aevalsrc=exprs={esc(expr)}:s={RATE}:d={d:.4f}"


def effect_chain(name: str, duration: float | None = None) -> tuple[str, float]:
    """(filter chain producing the effect as 48 kHz stereo float, its duration in seconds)."""
    if name not in EFFECTS:
        raise KeyError(name)
    d = float(duration or EFFECTS[name].default_duration)
    if name == "boing":
        src = _eval(f"0.8*sin(2*PI*(140*t+260*t*t)+5*sin(2*PI*13*t)*exp(-3*t))*exp(-3.2*t/{d})*min(t*200,1)", d)
        post = "lowpass=f=3000"
    elif name == "whoosh":
        src = f"anoisesrc=d={d:.4f}:c=pink:r={RATE}:a=0.9:s=7"
        post = (f"volume=eval=frame:volume={esc(f'pow(sin(PI*t/{d}),3)')},highpass=f=300,lowpass=f=2600,"
                "aecho=0.6:0.5:30:0.3,volume=15dB,alimiter=limit=0.7")
    elif name == "rimshot":
        a, b = 0.16 * d / 1.1, 0.32 * d / 1.1
        expr = (f"0.9*sin(2*PI*170*t)*exp(-28*t)"
                f"+0.9*gte(t,{a:.4f})*sin(2*PI*125*(t-{a:.4f}))*exp(-28*(t-{a:.4f}))"
                f"+0.45*gte(t,{b:.4f})*(2*random(0)-1)*exp(-5*(t-{b:.4f}))")
        src, post = _eval(expr, d), "highpass=f=60"
    elif name == "record_scratch":
        w = 2 * 3.14159265 * 5
        phase = f"2*PI*(250*t+1100*(t/2-sin(2*{w:.5f}*t)/(4*{w:.5f})))"
        expr = f"(0.55*sin({phase})+0.35*(2*random(0)-1)*abs(sin(PI*5*t)))*min(t*100,1)*exp(-1.2*t)"
        src, post = _eval(expr, d), "bandpass=f=1500:width_type=o:w=3"
    elif name == "sad_trombone":
        n = d / 4.4  # note unit: three short notes (1 unit) then a long one (1.4 units) with vibrato
        notes = [(0.0, 293.66, n * 0.95), (n, 277.18, n * 0.95), (2 * n, 261.63, n * 0.95), (3 * n, 246.94, d - 3 * n)]
        parts = []
        for i, (t0, f, ln) in enumerate(notes):
            vib = f"+0.6*sin(2*PI*6*(t-{t0:.4f}))*gte(t-{t0:.4f},0.2)" if i == 3 else ""
            env = f"between(t,{t0:.4f},{t0 + ln:.4f})*sin(PI*(t-{t0:.4f})/{ln:.4f})"
            tone = (f"(sin(2*PI*{f}*t{vib})+0.5*sin(4*PI*{f}*t{vib})+0.3*sin(6*PI*{f}*t{vib}))")
            parts.append(f"{env}*{tone}")
        src, post = _eval("0.35*(" + "+".join(parts) + ")", d), "lowpass=f=2200"
    else:  # ding
        src = _eval("0.7*sin(2*PI*1320*t)*exp(-4*t)+0.3*sin(2*PI*2640*t)*exp(-6*t)+0.15*sin(2*PI*3960*t)*exp(-9*t)", d)
        post = "anull"
    chain = f"{src},{post},aformat=sample_fmts=fltp:channel_layouts=stereo,aresample={RATE},atrim=duration={d:.4f}"
    return chain, d


class SoundResult(ToolResult):
    path: str
    name: str
    duration: float


@tool(family="video")
def make_sound_effect(ctx: ToolContext, name: str, duration: float | None = None) -> SoundResult:
    """Synthesise a comedic sound effect (no downloads): boing, whoosh, rimshot, record_scratch,
    sad_trombone or ding, as a 48 kHz stereo WAV.

    Args:
        name: The effect name.
        duration: Length in seconds (default: the effect's natural length).
    """
    if name not in EFFECTS:
        raise ToolError(f"unknown sound effect {name!r}", "choose one of " + ", ".join(sorted(EFFECTS)))
    if duration is not None and not 0.05 <= duration <= 30:
        raise ToolError(f"duration {duration}s is out of range", "use 0.05–30 seconds")
    chain, d = effect_chain(name, duration)
    out = ctx.workspace.unique_output(name, ".wav", "sfx")
    ffmpeg = require_binary(ctx.settings.video.ffmpeg, "video.ffmpeg")
    run_tool([ffmpeg, "-nostdin", "-y", "-v", "error", "-filter_complex", chain + "[a]", "-map", "[a]",
              "-c:a", "pcm_s16le", f"file:{out}"], timeout=60, what=f"sound effect {name}")
    rel = ctx.workspace.relative(out)
    return SoundResult(path=rel, name=name, duration=d,
                       artifacts=[Artifact(path=rel, kind="audio", metadata={"effect": name, "duration": d})])
