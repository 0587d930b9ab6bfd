"""Tool `voice_script`: every line of a parody script spoken with its character's voice preset.

Speech goes through the registered `synthesize_speech` tool (tools/audio), so voices, backends and
presets (configs/characters.yaml) stay configured in one place. A character without a preset gets
a distinct default voice, so two unknown speakers never sound the same.
"""
from __future__ import annotations

import re

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.registry import invoke, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.parody.models import ParodyScript

TTS_TOOL = "synthesize_speech"
# espeak-ng variants for speakers without a preset (cycled in order of appearance).
FALLBACK_VOICES = [("en-us+m3", -2.0), ("en-us+f2", 3.0), ("en-gb+m1", 0.0), ("en-us+f4", 5.0)]
_VOICE_PROBLEMS = re.compile(r"not heard|silen|speech|voice", re.IGNORECASE)


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


def _presets(ctx: ToolContext) -> set[str]:
    try:
        from tools.image.characters import load_characters

        return set(load_characters(ctx.settings))
    except Exception as exc:  # no preset file: every speaker gets a fallback voice
        ctx.trace.event("parody.presets_unavailable", error=repr(exc))
        return set()


def _emotion(text: str, character: str) -> str:
    if character == "Narrator":
        return "calm"  # deadpan: the calmer the narrator, the funnier the chaos
    if text.endswith("!"):
        return "excited"
    return "neutral"


def adjustments(iteration: int, feedback: list[str]) -> tuple[float, float, list[str]]:
    """What a redo changes: louder voices when the evaluation could not hear them; a touch faster if lines ran long."""
    voice_trouble = [f for f in feedback if _VOICE_PROBLEMS.search(f)]
    gain = min(9.0, 3.0 * iteration) if voice_trouble and iteration else 0.0
    too_long = any("duration" in f.lower() or "cps" in f.lower() for f in feedback)
    speed = round(min(1.25, 1.0 + 0.08 * iteration), 3) if too_long and iteration else 1.0
    notes = []
    if gain:
        notes.append(f"iteration {iteration}: voices {gain:+.0f} dB because {voice_trouble[0][:80]!r}")
    if speed != 1.0:
        notes.append(f"iteration {iteration}: speech x{speed} to shorten lines")
    return gain, speed, notes


@tool(family="parody")
def voice_script(ctx: ToolContext, script: ParodyScript, iteration: int = 0, feedback: list[str] | None = None) -> VoicesResult:
    """Speak every line of a parody script with its character's voice preset (one WAV per line).

    Args:
        script: The parody script (write_parody_script's `script`).
        iteration: The agent's iteration; a redo after the voices were blamed makes them louder.
        feedback: Problems found by the last evaluation.
    """
    if not script.lines:
        raise ToolError("the script has no lines to voice", "write the script again (write_parody_script)")
    from tools.core.registry import all_tools

    if TTS_TOOL not in {s.name for s in all_tools()}:
        raise ToolError("text-to-speech is missing: the synthesize_speech tool is not registered",
                        "install the audio family (tools/audio) and espeak-ng, or set tts.backend")
    presets = _presets(ctx)
    gain, speed, notes = adjustments(iteration, [str(f) for f in feedback or []])
    fallback: dict[str, tuple[str, float]] = {}
    clips: list[VoiceClip] = []
    with ctx.progress.task("Voicing the script", total=len(script.lines)) as task:
        for n, line in enumerate(script.lines):
            pitch = 0.0
            if line.character.lower() in presets:
                voice = line.character
            else:
                voice, pitch = fallback.setdefault(line.character, FALLBACK_VOICES[len(fallback) % len(FALLBACK_VOICES)])
            emotion = _emotion(line.text, line.character)
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
    return VoicesResult(voices=clips, gain_db=gain, speed=speed, notes=notes,
                        artifacts=[Artifact(path=c.audio, kind="audio", metadata={"line": c.index,
                                                                                   "character": c.character})
                                   for c in clips])
