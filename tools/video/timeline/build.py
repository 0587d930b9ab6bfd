"""EDL → OpenTimelineIO timeline: what an editor opens to finish the edit by hand.

Tracks (bottom to top): "Picture" (film clips at their source ranges, speed as LinearTimeWarp, freezes
as FreezeFrame, the title card as a PNG, crossfades as dissolves), "Film sound" (the film's own sound
under the same clips, its gain and the ducking under the voices as clip gain), one "Voice N" track per
voice line (the generated WAVs), "Music", "Effects" (each generated effect written out as a WAV),
and the subtitles and captions as markers on the picture track. Everything the EDL says rides along in
`metadata["animstudio"]` (the EDL itself included), so the timeline can be read back into an EDL.

Paths inside the run folder are written relative to the folder the timeline file is in; anything
outside (the user's film library) stays absolute, so the run folder can be moved as a whole.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from tools.media.ffmpeg import run_tool
from tools.video.edl import EDL, Clip, FreezeFrame, TitleCard
from tools.video.ffescape import esc
from tools.video.filtergraph import drawtext, segment_duration
from tools.video.sfx import effect_chain

META = "animstudio"
DUCK_ABOVE_THRESHOLD_DB = 14.0  # a voice line sits about this far above the ducking threshold


@dataclass
class Source:
    """What the builder needs to know about a file the EDL names."""

    path: Path  # absolute
    duration: float
    has_audio: bool = True


@dataclass
class Frame:
    width: int
    height: int
    fps: float


def duck_db(edl: EDL) -> float:
    """The gain the film's sound gets under a voice: the compressor's reduction for a voice
    DUCK_ABOVE_THRESHOLD_DB over its threshold (a static stand-in for the sidechain compressor)."""
    if not edl.duck.enabled:
        return 0.0
    return -round((1.0 - 1.0 / edl.duck.ratio) * DUCK_ABOVE_THRESHOLD_DB, 2)


def _rt(seconds: float, rate: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(round(seconds * rate), rate)


def _range(start: float, duration: float, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start, rate), _rt(duration, rate))


class _Refs:
    """Media references: relative to the timeline file's folder when inside the run folder."""

    def __init__(self, run_root: Path, out_dir: Path, rate: float):
        self.run_root, self.out_dir, self.rate = run_root.resolve(), out_dir.resolve(), rate

    def url(self, path: Path) -> str:
        path = path.resolve()
        try:
            path.relative_to(self.run_root)
        except ValueError:
            return str(path)
        return Path(os.path.relpath(path, self.out_dir)).as_posix()

    def external(self, path: Path, duration: float | None) -> otio.schema.ExternalReference:
        ref = otio.schema.ExternalReference(target_url=self.url(path))
        ref.name = path.name
        if duration:
            ref.available_range = _range(0.0, duration, self.rate)
        return ref


def _gain_effect(db: float, rate: float, length: float, ducked: list[tuple[float, float]] = (),
                 under: float = 0.0) -> otio.schema.Effect:
    """Clip gain in dB, lowered by `under` dB over the `ducked` (clip seconds) spans. `keyframes` (clip
    frame → dB, linear in between) is the volume effect's form that the Kdenlive adapter and our MLT
    writer turn into a volume filter."""
    keys: dict[int, float] = {0: db}
    last = max(0, round(length * rate) - 1)
    for a, b in ducked:
        fa, fb = round(a * rate), round(b * rate)
        for frame, level in ((fa - 2, db), (fa, db + under), (fb, db + under), (fb + 4, db)):
            keys[min(last, max(0, frame))] = round(level, 2)
    keys.setdefault(last, db)
    return otio.schema.Effect(name="gain", effect_name="volume",
                              metadata={"gain_db": db, "keyframes": {str(k): keys[k] for k in sorted(keys)}})


def _title_png(card: TitleCard, frame: Frame, dest: Path, ffmpeg: str) -> Path:
    """The title card as the picture our render shows (same font, size and colours)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    text = dest.with_suffix(".txt")
    text.write_text(card.text, encoding="utf-8")
    try:
        graph = (f"color=c={esc(card.background)}:s={frame.width}x{frame.height}:d=1,format=rgb24,"
                 + drawtext(text, card.style, frame.height, position="center"))
        run_tool([ffmpeg, "-nostdin", "-y", "-v", "error", "-f", "lavfi", "-i", graph, "-frames:v", "1",
                  f"file:{dest}"], timeout=60, what="title card picture")
    finally:
        text.unlink(missing_ok=True)
    return dest


def _effect_wavs(edl: EDL, media_dir: Path, ffmpeg: str) -> dict[int, tuple[Path, float]]:
    """Every generated sound effect of the edit as a WAV (one ffmpeg run for all): audio index → (file, seconds)."""
    wanted = {n: (media_dir / f"effect_{n + 1:02d}_{t.effect}.wav", *effect_chain(t.effect, t.duration))
              for n, t in enumerate(edl.audio) if t.effect}
    if not wanted:
        return {}
    media_dir.mkdir(parents=True, exist_ok=True)
    graph = ";".join(f"{chain}[e{n}]" for n, (_, chain, _) in wanted.items())
    args = [ffmpeg, "-nostdin", "-y", "-v", "error", "-filter_complex", graph]
    for n, (dest, _, _) in wanted.items():
        args += ["-map", f"[e{n}]", "-ar", "48000", "-c:a", "pcm_s16le", f"file:{dest}"]
    run_tool(args, timeout=60, what="sound effects for the timeline")
    return {n: (dest, d) for n, (dest, _, d) in wanted.items()}


def _segment_times(edl: EDL) -> list[tuple[float, float]]:
    """(timeline start, length) of each segment as the render places it (crossfades overlap)."""
    out, t = [], 0.0
    for n, seg in enumerate(edl.clips):
        if n and seg.transition:
            t -= seg.transition.duration
        d = segment_duration(seg)
        out.append((t, d))
        t += d
    return out


def build_timeline(edl: EDL, sources: dict[str, Source], frame: Frame, *, run_root: Path, out_dir: Path,
                   name: str, media_dir: Path, ffmpeg: str = "ffmpeg",
                   video: str | None = None) -> otio.schema.Timeline:
    """The timeline of a checked EDL (clip ends filled in, as render() leaves it).

    `media_dir` receives what only our renderer can make (title card PNGs, effect WAVs)."""
    rate = frame.fps
    refs = _Refs(run_root, out_dir, rate)
    tl = otio.schema.Timeline(name=name)
    tl.global_start_time = otio.opentime.RationalTime(0, rate)
    picture = otio.schema.Track(name="Picture", kind=otio.schema.TrackKind.Video)
    film_sound = otio.schema.Track(name="Film sound", kind=otio.schema.TrackKind.Audio)
    times = _segment_times(edl)
    total = times[-1][0] + times[-1][1]
    voices = [t for t in edl.audio if t.role == "voice" and t.source]
    voice_spans = [(t.at, t.at + ((t.end if t.end is not None else sources[t.source].duration) - t.start))
                   for t in voices]
    under = duck_db(edl)

    # Picture and film sound. A crossfade of d becomes a dissolve centred on the cut: each side keeps d/2.
    for n, (seg, (at, d)) in enumerate(zip(edl.clips, times)):
        head = seg.transition.duration / 2 if n and seg.transition else 0.0
        nxt = edl.clips[n + 1] if n + 1 < len(edl.clips) else None
        tail = nxt.transition.duration / 2 if nxt is not None and nxt.transition else 0.0
        # Frame-exact edges from the timeline seconds, so rounding never drifts over many cuts.
        length = (round((at + d - tail) * rate) - round((at + head) * rate)) / rate
        meta: dict = {"index": n, "kind": seg.kind}
        if isinstance(seg, Clip):
            src = sources[seg.source]
            item = otio.schema.Clip(name=f"{n + 1:02d} {Path(seg.source).stem}",
                                    media_reference=refs.external(src.path, src.duration),
                                    source_range=_range(seg.start + head * seg.speed, length, rate))
            if abs(seg.speed - 1.0) > 1e-6:
                item.effects.append(otio.schema.LinearTimeWarp(name="speed", time_scalar=seg.speed))
            meta.update(speed=seg.speed, zoom=seg.zoom.model_dump() if seg.zoom else None, audio=seg.audio)
        elif isinstance(seg, FreezeFrame):
            src = sources[seg.source]
            item = otio.schema.Clip(name=f"{n + 1:02d} freeze", media_reference=refs.external(src.path, src.duration),
                                    source_range=_range(seg.at, length, rate))
            item.effects.append(otio.schema.FreezeFrame(name="freeze"))
            meta.update(zoom=seg.zoom.model_dump() if seg.zoom else None)
        else:
            assert isinstance(seg, TitleCard)
            png = _title_png(seg, frame, media_dir / f"title_{n + 1:02d}.png", ffmpeg)
            item = otio.schema.Clip(name=f"{n + 1:02d} title card", media_reference=refs.external(png, length),
                                    source_range=_range(0.0, length, rate))
            meta.update(text=seg.text, background=seg.background)
        if seg.transition and n:
            half = _rt(seg.transition.duration / 2, rate)
            picture.append(otio.schema.Transition(name=seg.transition.kind,
                                                  transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                                                  in_offset=half, out_offset=half))
        item.metadata[META] = meta
        picture.append(item)
        # The film's own sound under a film clip, with its gain and the ducking under each voice.
        if isinstance(seg, Clip) and seg.audio and sources[seg.source].has_audio:
            sound = item.deepcopy()
            sound.name = f"{n + 1:02d} sound"
            gain = edl.original_gain_db + seg.gain_db
            a, b = at + head, at + head + length
            keys = [(max(a, s) - a, min(b, e) - a) for s, e in voice_spans if s < b and e > a]
            sound.effects.append(_gain_effect(gain, rate, length, keys if under else [], under))
            sound.metadata[META] = {"index": n, "kind": "film_sound", "gain_db": gain,
                                    "ducked": [[round(x, 3) for x in k] for k in keys] if under else []}
            film_sound.append(sound)
        else:
            film_sound.append(otio.schema.Gap(source_range=_range(0.0, length, rate)))

    tl.tracks.append(picture)
    tl.tracks.append(film_sound)
    _sound_tracks(tl, edl, sources, refs, media_dir, ffmpeg, rate, total)
    for line in edl.subtitles:
        tl.tracks.markers.append(_marker(line.text, line.start, line.end, total, rate, otio.schema.MarkerColor.YELLOW,
                                         {"kind": "subtitle"}))
    for ov in edl.overlays:
        position = ov.position if isinstance(ov.position, str) else ov.position.model_dump()
        tl.tracks.markers.append(_marker(ov.text, ov.start, ov.end, total, rate, otio.schema.MarkerColor.CYAN,
                                         {"kind": "caption", "position": position, "style": ov.style.model_dump(),
                                          "fade": ov.fade}))
    tl.metadata[META] = {"edl": edl.model_dump(mode="json"), "fps": rate, "width": frame.width,
                         "height": frame.height, "duration": round(total, 4), "video": video,
                         "duck_db": under, "paths": "relative to this file's folder"}
    return tl


def _marker(text: str, start: float, end: float, total: float, rate: float, color: str, meta: dict) -> otio.schema.Marker:
    """A subtitle (yellow) or caption (cyan) as a timeline marker; the colour tells them apart where a format
    keeps no metadata."""
    marker = otio.schema.Marker(name=text, marked_range=_range(start, min(end, total) - start, rate), color=color)
    marker.metadata[META] = {"text": text, "start": start, "end": end, **meta}
    return marker


def _sound_tracks(tl: otio.schema.Timeline, edl: EDL, sources: dict[str, Source], refs: _Refs, media_dir: Path,
                  ffmpeg: str, rate: float, total: float) -> None:
    """One track per voice line, then a music track and an effects track (gaps keep the times)."""
    shared: dict[str, list[otio.schema.Track]] = {"Music": [], "Effects": []}
    voice_n = 0
    effects = _effect_wavs(edl, media_dir, ffmpeg)
    for n, track in enumerate(edl.audio):
        if track.effect:
            path, length = effects[n]
            start, file_len = 0.0, length
        else:
            src = sources[track.source or ""]
            path, start, file_len = src.path, track.start, src.duration
            length = (track.end if track.end is not None else src.duration) - track.start
        length = min(length, total - track.at)
        clip = otio.schema.Clip(name=track.effect or Path(track.source or "").stem,
                                media_reference=refs.external(path, file_len),
                                source_range=_range(start, length, rate))
        clip.effects.append(_gain_effect(track.gain_db, rate, length))
        clip.metadata[META] = {"index": n, "kind": track.role, "effect": track.effect, "gain_db": track.gain_db,
                               "fade_in": track.fade_in, "fade_out": track.fade_out, "at": track.at}
        if track.role == "voice" and not track.effect:
            voice_n += 1
            dest = otio.schema.Track(name=f"Voice {voice_n}", kind=otio.schema.TrackKind.Audio)
            tl.tracks.append(dest)
        else:
            group = shared["Effects" if track.effect else "Music"]
            dest = next((t for t in group if t.duration().to_seconds() <= track.at + 0.5 / rate), None)
            if dest is None:  # overlaps what the other tracks of its kind hold at that time
                name = ("Effects" if track.effect else "Music") + (f" {len(group) + 1}" if group else "")
                dest = otio.schema.Track(name=name, kind=otio.schema.TrackKind.Audio)
                group.append(dest)
        _place(dest, clip, track.at, rate)
    for group in shared.values():
        for extra in group:
            tl.tracks.append(extra)


def _place(track: otio.schema.Track, clip: otio.schema.Clip, at: float, rate: float) -> None:
    """Put `clip` at timeline second `at` after what `track` holds (a gap before it)."""
    end = track.duration().to_seconds() if len(track) else 0.0
    if at - end > 0.5 / rate:
        track.append(otio.schema.Gap(source_range=_range(0.0, at - end, rate)))
    track.append(clip)
