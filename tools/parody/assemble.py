"""Tool `assemble_parody`: scene + script + voices → the finished parody MP4 (one render_edit run).

Inserts: with SDXL configured (image.sdxl_model_path) the lead character is generated with its
preset and LoRA and becomes the title card's picture; otherwise the title card holds the scene's
keyframe from the film. The result says which, and why.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.findings import MIX_CODES, Code, Finding, findings
from tools.core.registry import InputPath, invoke, tool
from tools.core.types import Artifact, ToolError, ToolResult
from tools.media.ffmpeg import require_binary, run_tool
from tools.media.probe import media_info
from tools.parody.models import TITLE_CARD_S, ParodyScript, SceneRef
from tools.parody.timeline import Mix, Span, build_edl, place_lines
from tools.parody.voices import VoiceClip


class InsertReport(BaseModel):
    mode: Literal["sdxl", "keyframes"]
    why: str
    images: list[str] = Field(default_factory=list)


class LineOut(BaseModel):
    """A line where it is heard in the final video (evaluate_media's `lines` format)."""

    text: str
    start: float
    end: float
    speaker: str = ""


class ParodyResult(ToolResult):
    video: str
    subtitles: str | None
    duration: float
    planned_duration: float
    lines: list[LineOut]
    inserts: InsertReport
    window: list[float]  # source seconds of the film used
    speed: float
    timeline: list[Span]
    in_scene: float = 1.0  # share of the video's seconds whose picture comes from the matched scene
    changes: list[str] = Field(default_factory=list)  # what this iteration did differently
    warnings: list[str] = Field(default_factory=list)
    timelines: dict[str, str] = Field(default_factory=dict)  # format → the edit's timeline for an editor

    def summary(self) -> str:
        extra = f"; changed: {'; '.join(self.changes)}" if self.changes else ""
        return (f"parody {self.video}: {self.duration:.1f}s, {len(self.lines)} voiced lines, film "
                f"{self.window[0]:.1f}-{self.window[1]:.1f}s, inserts: {self.inserts.mode} ({self.inserts.why[:80]}){extra}")


def iteration_mix(iteration: int, feedback: list[Finding], voice_gain_db: float) -> tuple[Mix, bool, list[str]]:
    """This iteration's levels and whether freeze frames stay; a redo changes only what was blamed.

    `feedback` holds every evaluation's findings: each evaluation that found the levels off lowers the
    original sound and the effects by 3 dB more, and freezes stay out once frozen picture was found."""
    mix = Mix()
    mix.voice_gain_db += voice_gain_db
    changes = []
    if voice_gain_db:
        changes.append(f"voices {voice_gain_db:+.0f} dB")
    level_rounds = len({f.iteration for f in feedback if f.code in MIX_CODES})
    if iteration and level_rounds:
        mix.original_gain_db -= 3.0 * level_rounds
        mix.effect_gain_db -= 3.0 * level_rounds
        changes.append(f"original sound {mix.original_gain_db:+.0f} dB, effects {mix.effect_gain_db:+.0f} dB")
    keep_freezes = not (iteration and any(f.code == Code.frozen_picture for f in feedback))
    if not keep_freezes:
        changes.append("freeze frames dropped (the evaluation found frozen picture)")
    return mix, keep_freezes, changes


def _sdxl_insert(ctx: ToolContext, character: str, place: str, size: tuple[int, int],
                 fps: float) -> tuple[str | None, str | None, str]:
    """Generate the lead character and turn it into a title-card clip with a slow push-in."""
    outcome = invoke("generate_character_image", {"character": character, "prompt": f"comic pose at {place}, parody"}, ctx)
    if not outcome.ok:
        return None, None, f"SDXL is configured but generation failed ({outcome.error}); used film keyframes"
    image = next((a.path for a in outcome.artifacts if a.kind == "image"), None)
    if image is None:
        return None, None, "SDXL returned no image; used film keyframes"
    src = ctx.workspace.resolve_input(image)
    out = ctx.workspace.unique_output(f"insert_{Path(image).stem}", ".mp4", "parody")
    w, h = size
    frames = round(TITLE_CARD_S * fps) + 2
    vf = (f"scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,crop={w * 2}:{h * 2},"
          f"zoompan=z='min(1+0.1*on/{frames},1.1)':d={frames}:s={w}x{h}:fps={fps},format=yuv420p")
    ffmpeg = require_binary(ctx.settings.video.ffmpeg, "video.ffmpeg")
    run_tool([ffmpeg, "-nostdin", "-y", "-v", "error", "-loop", "1", "-i", f"file:{src}", "-f", "lavfi", "-i",
              "anullsrc=r=48000:cl=stereo", "-vf", vf, "-t", f"{TITLE_CARD_S + 0.1:.3f}", "-c:v", "libx264",
              "-preset", "veryfast", "-c:a", "aac", "-shortest", f"file:{out}"], timeout=120, what="SDXL insert clip")
    return ctx.workspace.relative(out), image, f"SDXL + {character}'s preset/LoRA made the title-card insert ({image})"


def decide_inserts(ctx: ToolContext, cast: list[str], place: str, size: tuple[int, int], fps: float) -> tuple[InsertReport, str | None]:
    from tools.image.pipeline import image_generation_available

    available, reason = image_generation_available(ctx.settings)
    if not available:
        return InsertReport(mode="keyframes", why=f"no image generation ({reason}); the title card uses the scene's "
                                                  "keyframe from the film"), None
    lead = cast[0] if cast else "Narrator"
    clip, image, why = _sdxl_insert(ctx, lead, place, size, fps)
    if clip is None or image is None:
        return InsertReport(mode="keyframes", why=why), None
    return InsertReport(mode="sdxl", why=why, images=[image]), clip


def _scenes(ctx: ToolContext, film: Path) -> tuple[list[SceneRef], dict[int, float]]:
    from tools.video.scenes import scene_list

    found = scene_list(ctx, film)  # cached by find_scene in the same run
    refs = [SceneRef(index=s.index, start=s.start, end=s.end, description=s.description) for s in found.scenes]
    return refs, {s.index: s.keyframe_time for s in found.scenes if s.keyframe_time is not None}


MIN_SHOWN_S = 1.0  # a scene trimmed of its black edges keeps at least this much, else it is kept whole


def without_black_edges(ctx: ToolContext, film: Path, scene: SceneRef) -> SceneRef:
    """The scene without the black its shot fades in from or out to (what the video scorer would call black):
    a second of black after the title card is dead air, not the scene the user asked for."""
    q, exe = ctx.settings.quality, require_binary(ctx.settings.video.ffmpeg, "video.ffmpeg")
    span = scene.end - scene.start
    proc = run_tool([exe, "-hide_banner", "-nostats", "-nostdin", "-ss", f"{scene.start:.3f}", "-t", f"{span:.3f}",
                     "-i", str(film), "-map", "0:v:0", "-an", "-vf",
                     f"scale=320:-2,blackdetect=d=0.2:pix_th={q.black_pix_th}", "-f", "null", "-"],
                    timeout=120, what="finding black frames at the scene's edges")
    log = proc.stderr.decode("utf-8", "replace")
    head, tail = 0.0, span
    for a, b in ((float(a), float(b)) for a, b in re.findall(r"black_start:\s*([0-9.]+)\s+black_end:\s*([0-9.]+)", log)):
        if a <= 0.1:
            head = max(head, b)
        if b >= span - 0.1:
            tail = min(tail, a)
    if (head <= 0.0 and tail >= span) or tail - head < MIN_SHOWN_S:
        return scene
    ctx.trace.event("parody.black_edges", scene=scene.index, start=round(scene.start + head, 3),
                    end=round(scene.start + tail, 3))
    return scene.model_copy(update={"start": round(scene.start + head, 3), "end": round(scene.start + tail, 3)})


@tool(family="parody")
def assemble_parody(ctx: ToolContext, film: InputPath, scene: SceneRef, script: ParodyScript, voices: list[VoiceClip],
                    footage_duration: float, characters: list[str] | None = None, voice_gain_db: float = 0.0,
                    iteration: int = 0, feedback: list[Finding] | None = None, output_name: str = "parody",
                    extend: bool = False) -> ParodyResult:
    """Edit the finished parody: the scene (a short one slowed and replayed; extended into neighbouring scenes only
    with `extend`), a title card,
    voices over the ducked original sound, burned subtitles, freeze-frame captions, zooms, slow motion, sound
    effects and loudness normalisation; rendered with render_edit.

    Args:
        film: The film the scene comes from.
        scene: The scene to parody (find_scene's best match).
        script: The timed parody script (write_parody_script's `script`).
        voices: One voiced clip per script line (voice_script's `voices`).
        footage_duration: Seconds of footage after the title card (write_parody_script's `footage_duration`).
        characters: The cast (the first is the lead, used for inserts).
        voice_gain_db: Extra voice level decided by voice_script.
        iteration: The agent's iteration (a redo changes only what the evaluation blamed).
        feedback: Findings of the evaluations so far (their codes say what to change).
        output_name: File name stem of the MP4 (saved under parody/).
        extend: The request asked for more than the scene ("the whole opening"): continue into the next scenes.
    """
    if not script.lines:
        raise ToolError("the script has no lines", "write the script first (write_parody_script)")
    if len(voices) != len(script.lines):
        raise ToolError(f"{len(voices)} voice clips for {len(script.lines)} script lines",
                        "voice the current script again (voice_script) before assembling")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,48}", output_name):
        raise ToolError(f"invalid output_name {output_name!r}", "use letters, digits, '_' and '-'")
    info = media_info(film, ctx.settings.video.ffprobe, limits=ctx.settings.limits)
    if not info.has_video or not info.width or not info.height:
        raise ToolError(f"{film.name} has no video stream", "give the film the scene was found in")
    if scene.start >= info.duration:
        raise ToolError(f"the scene starts at {scene.start:.1f}s but {film.name} is {info.duration:.1f}s long",
                        "find the scene in this film again (find_scene)")
    for clip in voices:
        ctx.workspace.resolve_input(clip.audio)  # a missing voice file fails here, clearly
    fps = float(info.fps or ctx.settings.video.fps)
    size = (int(info.width), int(info.height))
    scenes, keyframes = _scenes(ctx, film)
    mix, keep_freezes, changes = iteration_mix(iteration, findings(feedback or []), voice_gain_db)
    if not keep_freezes:
        script = script.model_copy(update={"effects": [e for e in script.effects if e.kind != "freeze_frame"]})
    from tools.parody.template import place_from

    inserts, insert_clip = decide_inserts(ctx, list(characters or []), place_from(scene.description), size, fps)
    lines = place_lines(script, [(v.audio, v.duration) for v in voices])
    out_rel = f"parody/{output_name}_{iteration}.mp4"
    shown = without_black_edges(ctx, film, scene)
    edl, spans, decided = build_edl(film=str(film), film_duration=info.duration, scenes=scenes, match=shown,
                                    script=script, lines=lines, footage=footage_duration, mix=mix, output=out_rel,
                                    size=size, fps=fps, title_frame=keyframes.get(scene.index), extend=extend)
    if insert_clip:
        from tools.video.edl import Clip

        edl.clips[0] = Clip(source=insert_clip, start=0.0, end=TITLE_CARD_S, audio=False)
    edl_file = ctx.workspace.unique_output(f"{output_name}_{iteration}_edl", ".json", "parody")
    edl_file.write_text(edl.model_dump_json(indent=2), encoding="utf-8")
    from tools.video.render import render

    rendered = render(ctx, edl)
    placed = decided["lines"]
    out_lines = [LineOut(text=l.text, start=round(TITLE_CARD_S + l.start, 3), end=round(TITLE_CARD_S + l.voice_end, 3),
                         speaker=l.character) for l in placed]
    artifacts = []
    for art in rendered.artifacts:
        meta = {**art.metadata, "final": True, "inserts": inserts.mode} if art.path == rendered.path else art.metadata
        artifacts.append(Artifact(path=art.path, kind=art.kind, metadata=meta))
    artifacts.append(Artifact(path=ctx.workspace.relative(edl_file), kind="json", metadata={"what": "parody EDL"}))
    ctx.trace.event("parody.assembled", video=rendered.path, duration=rendered.duration, window=decided["window"],
                    speed=decided["speed"], inserts=inserts.mode, iteration=iteration, changes=changes)
    return ParodyResult(video=rendered.path, subtitles=rendered.subtitles, duration=rendered.duration,
                        planned_duration=decided["duration"], lines=out_lines, inserts=inserts,
                        window=decided["window"], speed=decided["speed"], timeline=spans, in_scene=decided["in_scene"],
                        changes=changes, timelines=rendered.timelines,
                        warnings=rendered.warnings, artifacts=artifacts)

