"""Tool `voice_script`: every line of a parody script spoken with its character's voice preset.

Speech goes through the registered `synthesize_speech` tool (tools/audio), so voices, backends and
presets (configs/characters.yaml) stay configured in one place. A character without a preset gets
a distinct default voice, so two unknown speakers never sound the same.
"""
from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.findings import SPEECH_CODES, Code, Finding, findings, latest
from tools.core.registry import invoke, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.parody.models import ParodyScript

TTS_TOOL = "synthesize_speech"
# espeak-ng variants for speakers without a preset (cycled in order of appearance).
FALLBACK_VOICES = [("en-us+m3", -2.0), ("en-us+f2", 3.0), ("en-gb+m1", 0.0), ("en-us+f4", 5.0)]


class VoiceClip(BaseModel):
    index: int
    character: str
    text: str
    audio: str  # workspace-relative WAV
    duration: float
    voice: str
    emotion: str = "neutral"


class VoicesResult(ToolResult):
    voices: list[VoiceClip]
    gain_db: float = 0.0  # how much louder than the TTS loudness target the assembly should play them
    speed: float = 1.0
    notes: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        total = sum(v.duration for v in self.voices)
        return (f"voiced {len(self.voices)} lines ({total:.1f}s of speech, gain {self.gain_db:+.1f} dB, "
                f"speed x{self.speed:g})" + (f"; {'; '.join(self.notes[:2])}" if self.notes else ""))


def _presets(ctx: ToolContext) -> dict:
    try:
        from tools.media.character_presets import load_characters

        return load_characters(ctx.settings)
    except Exception as exc:  # no preset file: every speaker gets a fallback voice
        ctx.trace.event("parody.presets_unavailable", error=repr(exc))
        return {}


def _emotion(text: str, character: str) -> str:
    if character == "Narrator":
        return "calm"  # deadpan: the calmer the narrator, the funnier the chaos
    if text.endswith("!"):
        return "excited"
    return "neutral"


class Redo(BaseModel):
    """How a redo speaks: louder, faster, and per speaker a clearer delivery or another voice."""

    gain_db: float = 0.0
    speed: float = 1.0
    unclear: dict[str, int] = Field(default_factory=dict)  # speaker → evaluations that could not understand them
    notes: list[str] = Field(default_factory=list)


def adjustments(iteration: int, feedback: list[Finding]) -> Redo:
    """What a redo changes, from the evaluations' codes (every iteration's, so a fix is never undone):
    lines the recogniser could not understand → that speaker speaks plainly (no pitch shift, no acted
    emotion) and slower, and from the second time on with another voice; lines not heard at all (energy)
    → louder voices; subtitles too fast or a parody too long → a touch faster."""
    if not iteration:
        return Redo()
    recent = latest(feedback)
    unclear = Counter(who for who, _ in {(str(f.data.get("speaker", "")), f.iteration) for f in feedback
                                          if f.code in SPEECH_CODES
                                          and f.code not in (Code.line_not_heard, Code.silent_soundtrack)})
    unclear.pop("", None)
    quiet = [f for f in recent if f.code in (Code.line_not_heard, Code.silent_soundtrack)]
    gain = min(9.0, 3.0 * iteration) if quiet else 0.0
    too_long = any(f.code == Code.subtitle_too_fast or (f.code == Code.duration_off and f.data.get("over"))
                   for f in recent)
    speed = round(min(1.25, 1.0 + 0.08 * iteration), 3) if too_long else 1.0
    notes = []
    if gain:
        notes.append(f"iteration {iteration}: voices {gain:+.0f} dB because {quiet[0].message[:80]!r}")
    if speed != 1.0:
        notes.append(f"iteration {iteration}: speech x{speed} to shorten lines")
    for who, times in unclear.items():
        notes.append(f"iteration {iteration}: {who} speaks plainly and slower" + (" with another voice" if times > 1
                                                                                   else "") +
                     f" (not understood in {times} evaluation(s))")
    return Redo(gain_db=gain, speed=speed, unclear=dict(unclear), notes=notes)


def _voice_for(speaker: str, presets: dict, fallback: dict[str, tuple[str, float]], redo: Redo,
               backend: str) -> tuple[str, float, float, bool]:
    """(voice, pitch offset, speed multiplier, plain delivery) of one speaker in this take."""
    times = redo.unclear.get(speaker, 0)
    preset = presets.get(speaker.lower())
    if preset is not None:
        voice, pitch = speaker, 0.0
    else:
        voice, pitch = fallback.setdefault(speaker, FALLBACK_VOICES[len(fallback) % len(FALLBACK_VOICES)])
    if not times:
        return voice, pitch, redo.speed, False
    # Plain: cancel the preset's pitch shift and speed-up; slower than normal each time the recogniser failed.
    shape = getattr(preset, "voice", None)
    pitch = -float(getattr(shape, "pitch", 0.0) or 0.0) if preset is not None else 0.0
    speed = round(redo.speed * 0.85 ** times / (float(getattr(shape, "speed", 1.0) or 1.0) if preset else 1.0), 3)
    if times > 1 and backend in ("espeak", "piper"):  # another voice, unshaped (Piper: its plain neural voice)
        voice, pitch = FALLBACK_VOICES[(times + len(speaker)) % len(FALLBACK_VOICES)][0], 0.0
        speed = round(redo.speed * 0.85 ** times, 3)
    return voice, max(-12.0, min(12.0, pitch)), max(0.5, min(2.0, speed)), True  # synthesize_speech's bounds


@tool(family="parody")
def voice_script(ctx: ToolContext, script: ParodyScript, iteration: int = 0,
                 feedback: list[Finding] | None = None) -> VoicesResult:
    """Speak every line of a parody script with its character's voice preset (one WAV per line).

    Args:
        script: The parody script (write_parody_script's `script`).
        iteration: The agent's iteration; a redo after the voices were blamed changes how the blamed speakers speak.
        feedback: Findings of the evaluations so far (codes say which lines were not understood or not heard).
    """
    if not script.lines:
        raise ToolError("the script has no lines to voice", "write the script again (write_parody_script)")
    from tools.core.registry import all_tools

    if TTS_TOOL not in {s.name for s in all_tools()}:
        raise ToolError("text-to-speech is missing: the synthesize_speech tool is not registered",
                        "install the audio family (tools/audio) and espeak-ng, or set tts.backend")
    presets = _presets(ctx)
    redo = adjustments(iteration, findings(feedback or []))
    from tools.audio.backends import resolve_backend_name

    backend = resolve_backend_name(ctx.settings.tts.backend, ctx.settings)[0]
    fallback: dict[str, tuple[str, float]] = {}
    clips: list[VoiceClip] = []
    with ctx.progress.task("Voicing the script", total=len(script.lines)) as task:
        for n, line in enumerate(script.lines):
            voice, pitch, speed, plain = _voice_for(line.character, presets, fallback, redo, backend)
            emotion = "neutral" if plain else _emotion(line.text, line.character)
            args = {"text": line.text, "voice": voice, "speed": speed, "pitch": pitch, "emotion": emotion,
                    "output_name": f"line_{iteration}_{n:02d}"}
            outcome = invoke(TTS_TOOL, args, ctx)
            if not outcome.ok:
                raise ToolError(f"could not voice line {n + 1} ({line.character}: {line.text[:40]!r}): {outcome.error}",
                                outcome.hint or "check the tts settings and the character's voice preset")
            res = outcome.result or {}
            clips.append(VoiceClip(index=n, character=line.character, text=line.text, audio=res["audio"],
                                   duration=float(res["duration"]), voice=str(res.get("voice", voice)), emotion=emotion))
            task.advance()
    return VoicesResult(voices=clips, gain_db=redo.gain_db, speed=redo.speed, notes=redo.notes,
                        artifacts=[Artifact(path=c.audio, kind="audio", metadata={"line": c.index,
                                                                                   "character": c.character})
                                   for c in clips])
