"""Parody script + voices + scene → an EDL (pure functions: no I/O, easy to test).

Output timeline: a 2 s title over a slowly zooming frame of the scene, then the footage. Script
times are footage seconds; everything placed on the output is shifted by the title card.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel

from tools.parody.models import TITLE_CARD_S, ParodyScript, SceneRef, ScriptEffect
from tools.video.edl import (
    EDL,
    AudioTrack,
    Clip,
    Ducking,
    FreezeFrame,
    SubtitleLine,
    TextOverlay,
    TextStyle,
    Zoom,
)

MIN_SUB_S = 1.2
MAX_CPS = 16.5  # a little under the 17 cps rule: cue rounding must not push a line over it
LINE_GAP_S = 0.25
SLOW_SPEED = 0.5
MIN_GLOBAL_SPEED = 0.6  # slowest the whole window may be stretched when the film is too short
MIN_STRETCH_SPEED = 0.8  # a short scene is first slowed this far (barely visible), then replayed
REPLAY_SPEED = 0.5
MIN_REPLAY_RATE = 0.35  # slowest a replay of a very short scene goes before its last frame is held
MIN_REPLAY_S = 0.8


class TimedLine(BaseModel):
    """A voiced line where it is heard in the final video (output seconds)."""

    character: str
    text: str
    start: float
    end: float
    audio: str
    voice_end: float


class Span(BaseModel):
    """One piece of the output timeline and the source range it shows (for checks and reports)."""

    kind: str  # title | clip | freeze | zoom | slow
    out_start: float
    out_end: float
    src_start: float
    src_end: float
    speed: float = 1.0


@dataclass
class Mix:
    """Audio levels of one iteration (a redo after an audio_mix blame lowers the original further)."""

    original_gain_db: float = -3.0
    voice_gain_db: float = 2.0
    effect_gain_db: float = -6.0
    duck: Ducking = field(default_factory=lambda: Ducking(threshold=0.015, ratio=12.0))


def place_lines(script: ParodyScript, voices: list[tuple[str, float]]) -> list[TimedLine]:
    """Footage-time placement from real voice lengths: no overlaps, ≥ MIN_SUB_S, ≤ MAX_CPS on screen."""
    out: list[TimedLine] = []
    prev_end = 0.0
    for line, (audio, seconds) in zip(script.lines, voices):
        start = max(line.start, prev_end + LINE_GAP_S if out else line.start)
        shown = max(seconds, MIN_SUB_S, len(line.text) / MAX_CPS)
        out.append(TimedLine(character=line.character, text=line.text, start=round(start, 3),
                             end=round(start + shown, 3), audio=audio, voice_end=round(start + seconds, 3)))
        prev_end = start + shown
    return out


def choose_window(scenes: list[SceneRef], match: SceneRef, needed: float, film_duration: float,
                  extend: bool = False) -> tuple[float, float]:
    """Source range for `needed` seconds: the matched scene; only when `extend` (the request asked for more,
    "the whole opening") is it extended into the following, then the preceding scenes."""
    start, end = match.start, match.end
    if not extend:
        end = min(end, film_duration - 0.04)
        return round(start, 3), round(min(end, start + needed), 3)
    after = sorted((s for s in scenes if s.start >= match.end - 0.05), key=lambda s: s.start)
    before = sorted((s for s in scenes if s.end <= match.start + 0.05), key=lambda s: -s.end)
    while end - start < needed and (after or before):
        if after:
            end = max(end, after.pop(0).end)
        else:
            start = min(start, before.pop(0).start)
    if end - start < needed:  # scene list incomplete: fall back to the film's bounds
        end = min(film_duration, start + needed)
        start = max(0.0, min(start, end - needed))
    end = min(end, film_duration - 0.04)
    return round(start, 3), round(min(end, start + needed), 3)


def needed_source(footage: float, effects: list[ScriptEffect]) -> float:
    """Source seconds the footage consumes at normal speed (freezes hold, slow-mo halves)."""
    held = sum(e.duration for e in effects if e.kind == "freeze_frame")
    slowed = sum(e.duration * (1 - SLOW_SPEED) for e in effects if e.kind == "speed_ramp")
    return max(1.0, footage - held - slowed)


def build_segments(film: str, window: tuple[float, float], footage: float, effects: list[ScriptEffect],
                   speed: float, replay: bool = False) -> tuple[list, list[Span]]:
    """Clips/freezes for the footage timeline, walking source time alongside output time.

    When the window runs out before the footage does, `replay` plays the scene again in slow motion (a
    repeated gag) instead of walking into the next scene; without it the last frame is held.
    """
    segs: list = []
    spans: list[Span] = []
    out_t, src_t = 0.0, window[0]
    src_end = window[1]
    replaying, replay_rate = False, REPLAY_SPEED

    def clip(kind: str, out_len: float, rate: float, zoom: Zoom | None = None) -> None:
        nonlocal out_t, src_t, replaying, replay_rate
        if replaying:  # one continuous slow-motion replay to the end of the footage, effects included
            kind, rate = "replay", min(rate, replay_rate)
        while out_len >= 0.05:
            src_len = min(out_len * rate, max(0.0, src_end - src_t))
            if src_len >= 0.05:
                piece = out_len if src_len >= out_len * rate - 1e-6 else round(src_len / rate, 3)  # spans: 1 ms grid
                segs.append(Clip(source=film, start=round(src_t, 3), end=round(src_t + src_len, 3),
                                 speed=round(src_len / piece, 4), zoom=zoom))
                spans.append(Span(kind=kind, out_start=round(out_t, 3), out_end=round(out_t + piece, 3),
                                  src_start=round(src_t, 3), src_end=round(src_t + src_len, 3),
                                  speed=round(src_len / piece, 4)))
                out_t, src_t, out_len = out_t + piece, src_t + src_len, out_len - piece
                continue
            left = footage - out_t
            # Again, in slow motion: as much of the scene's end as the rest of the footage holds, or all of it;
            # once only, and not for a scene shorter than one clip (it has nothing to replay).
            if replay and not replaying and left >= MIN_REPLAY_S and src_end - window[0] >= 0.05:
                src_t = max(window[0], src_end - left * REPLAY_SPEED)
                # A scene too short to fill the rest at half speed is replayed slower still (not below MIN_REPLAY_RATE).
                replay_rate = max(MIN_REPLAY_RATE, min(REPLAY_SPEED, (src_end - src_t) / left))
                replaying, kind, rate = True, "replay", min(rate, replay_rate)
                continue
            # The window ran out: hold the last frame rather than read past the scene.
            segs.append(FreezeFrame(source=film, at=max(0.0, src_t - 0.1), duration=round(out_len, 3),
                                    zoom=Zoom(factor=1.15, ramp=out_len)))
            spans.append(Span(kind="freeze", out_start=out_t, out_end=out_t + out_len, src_start=src_t, src_end=src_t))
            out_t += out_len
            return

    for eff in sorted((e for e in effects if e.kind != "sound_effect"), key=lambda e: e.at):
        if eff.at < out_t or eff.at + eff.duration > footage:
            continue
        clip("clip", eff.at - out_t, speed)
        if eff.kind == "freeze_frame":
            segs.append(FreezeFrame(source=film, at=round(src_t, 3), duration=eff.duration,
                                    zoom=Zoom(factor=1.35, x=0.5, y=0.45, ramp=eff.duration)))
            spans.append(Span(kind="freeze", out_start=round(out_t, 3), out_end=round(out_t + eff.duration, 3),
                              src_start=round(src_t, 3), src_end=round(src_t, 3), speed=0.0))
            out_t += eff.duration
        elif eff.kind == "zoom_punch_in":
            clip("zoom", eff.duration, speed, Zoom(factor=1.6, x=0.5, y=0.45, ramp=0.15))
        else:
            clip("slow", eff.duration, SLOW_SPEED * speed)
    clip("clip", footage - out_t, speed)
    return segs, spans


def build_edl(*, film: str, film_duration: float, scenes: list[SceneRef], match: SceneRef, script: ParodyScript,
              lines: list[TimedLine], footage: float, mix: Mix, output: str, size: tuple[int, int], fps: float,
              title_frame: float | None = None, extend: bool = False) -> tuple[EDL, list[Span], dict]:
    """The whole edit. Returns the EDL, the timeline spans and a few decisions for the result.

    The footage stays in the matched scene: a scene shorter than the footage is slowed a little, then
    replayed in slow motion; only `extend` (the request asked for more) walks into the neighbouring scenes.
    """
    footage = max(footage, (lines[-1].end + 0.6) if lines else footage)
    effects = [e for e in script.effects if e.at + e.duration <= footage]
    needed = needed_source(footage, effects)
    window = choose_window(scenes, match, needed, film_duration, extend)
    have = window[1] - window[0]
    if not extend:
        speed = 1.0 if have >= needed - 0.05 else max(MIN_STRETCH_SPEED, have / needed)
    else:
        speed = 1.0 if have >= needed - 0.05 else max(MIN_GLOBAL_SPEED, have / needed)
        if speed < 1.0 and have / needed < MIN_GLOBAL_SPEED:
            footage = round(have / MIN_GLOBAL_SPEED + (footage - needed), 3)  # never read past the film
            lines = [line for line in lines if line.end <= footage - 0.2]
            effects = [e for e in effects if e.at + e.duration <= footage - 0.2]
    segs, spans = build_segments(film, window, footage, effects, speed, replay=not extend)
    t0 = TITLE_CARD_S
    at = title_frame if title_frame is not None else min(match.start + 0.5, match.end - 0.1)
    title = FreezeFrame(source=film, at=round(max(0.0, at), 3), duration=TITLE_CARD_S,
                        zoom=Zoom(factor=1.2, ramp=TITLE_CARD_S))
    spans.insert(0, Span(kind="title", out_start=0.0, out_end=t0, src_start=at, src_end=at, speed=0.0))
    for sp in spans[1:]:
        sp.out_start, sp.out_end = round(sp.out_start + t0, 3), round(sp.out_end + t0, 3)
    title_text = script.title or "A Parody"
    # Bold glyphs are ~0.6 of the font size wide: shrink long titles so they fit the frame's width.
    title_size = min(0.085, 0.9 * (size[0] / size[1]) / (0.6 * max(1, len(title_text))))
    overlays = [TextOverlay(text=title_text, start=0.1, end=t0 - 0.05, position="center",
                            style=TextStyle(size=round(title_size, 4), box=True), fade=0.25)]
    audio: list[AudioTrack] = []
    again = next((sp for sp in spans if sp.kind == "replay"), None)
    if again is not None:  # the replay is announced once, as a gag
        overlays.append(TextOverlay(text="Again, in slow motion.", start=again.out_start,
                                    end=round(min(spans[-1].out_end, again.out_start + 1.6), 3), position="top",
                                    style=TextStyle(size=0.06, box=True), fade=0.1))
    for eff in effects:
        if eff.kind == "freeze_frame" and eff.caption:
            overlays.append(TextOverlay(text=eff.caption, start=round(t0 + eff.at, 3),
                                        end=round(t0 + eff.at + eff.duration, 3), position="top",
                                        style=TextStyle(size=0.07, box=True), fade=0.1))
        audio.append(AudioTrack(effect=eff.sound or "boing", at=round(t0 + eff.at, 3), role="effect",
                                gain_db=mix.effect_gain_db))
    for line in lines:
        audio.append(AudioTrack(source=line.audio, at=round(t0 + line.start, 3), role="voice",
                                gain_db=mix.voice_gain_db))
    subtitles = [SubtitleLine(text=line.text, start=round(t0 + line.start, 3), end=round(t0 + line.end, 3))
                 for line in lines]
    w, h = size
    edl = EDL(clips=[title, *segs], overlays=overlays, subtitles=subtitles, audio=audio,
              original_gain_db=mix.original_gain_db, duck=mix.duck, fade_in=0.3, fade_out=0.6, loudness_lufs=-16.0,
              width=w - w % 2, height=h - h % 2, fps=fps, output=output)
    decisions = {"lines": lines, "window": list(window), "speed": round(speed, 3), "footage": round(footage, 3),
                 "duration": round(t0 + footage, 3), "extended": window[1] - window[0] > match.duration + 0.05,
                 "in_scene": round(share_in_scene(spans, match), 3)}
    return edl, spans, decisions


def share_in_scene(spans: list[Span], scene: SceneRef) -> float:
    """Share of the output's seconds whose picture comes from `scene` (title card and freezes included)."""
    total = sum(sp.out_end - sp.out_start for sp in spans)
    inside = sum(sp.out_end - sp.out_start for sp in spans
                 if scene.start - 0.05 <= sp.src_start and max(sp.src_end, sp.src_start) <= scene.end + 0.05)
    return inside / total if total else 0.0
