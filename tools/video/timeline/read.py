"""A timeline an editor changed → an EDL our renderer plays: `animstudio run --resume RUN --timeline edited.otio`.

What the timeline shows wins (clip order, in/out points, speed, where each sound sits, markers);
what it cannot show (zooms, ducking settings, loudness, the title card's style) comes from the EDL
the timeline was exported from (kept in its metadata). A clip or sound the editor added from
another file is played as it is."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import opentimelineio as otio

from tools.core.types import ToolError
from tools.video.edl import (
    EDL,
    AudioTrack,
    Clip,
    FreezeFrame,
    SubtitleLine,
    TextOverlay,
    TextStyle,
    TitleCard,
    Transition,
    Zoom,
)
from tools.video.timeline.build import META

STILLS = (".png", ".jpg", ".jpeg", ".webp")


@dataclass
class EditedTimeline:
    edl: EDL
    files: list[Path]  # every file the timeline plays (the run may read them)
    moved: dict[float, float] = field(default_factory=dict)  # a voice line's old start → new start (seconds)


def _path(url: str, bases: list[Path]) -> Path:
    """A media path: absolute as written, else against the first base folder where it exists."""
    if url.startswith("file:"):
        url = unquote(urlparse(url).path)
    p = Path(url).expanduser()
    if p.is_absolute():
        return p
    found = [(b / p).resolve() for b in bases if (b / p).exists()]
    return found[0] if found else (bases[0] / p).resolve()


def _secs(t: otio.opentime.RationalTime) -> float:
    return round(t.to_seconds(), 6)


def _speed(item: otio.schema.Clip) -> tuple[float, bool]:
    freeze = any(isinstance(e, otio.schema.FreezeFrame) for e in item.effects)
    warp = next((e for e in item.effects if isinstance(e, otio.schema.LinearTimeWarp)
                 and not isinstance(e, otio.schema.FreezeFrame)), None)
    return (float(warp.time_scalar) if warp else 1.0), freeze


def read_timeline(path: Path) -> otio.schema.Timeline:
    try:
        got = otio.adapters.read_from_file(str(path))
    except Exception as exc:  # any adapter's parse error: the user's file is bad input
        raise ToolError(f"{path.name} is not a timeline OpenTimelineIO can read: {str(exc)[:300]}",
                        "export it from the editor as .otio (or .kdenlive / .fcpxml / .xml / .edl)") from None
    if isinstance(got, otio.schema.SerializableCollection):
        got = next(iter(got), None)
    if not isinstance(got, otio.schema.Timeline):
        raise ToolError(f"{path.name} holds no timeline")
    return got


def timeline_to_edl(timeline: otio.schema.Timeline, base: Path | list[Path], output: str,
                    original: EDL | None = None) -> EditedTimeline:
    """The EDL of `timeline`; relative media paths resolve against `base` (the timeline file's folder;
    a list: the first folder that has the file — the edited file may be saved away from the run).
    `original`: the EDL the timeline was exported from, when its metadata does not carry it (a format
    other than .otio): the settings a timeline cannot show come from it."""
    base = [base] if isinstance(base, Path) else list(base)
    meta = timeline.metadata.get(META) or {}
    original = EDL.model_validate(meta["edl"]) if meta.get("edl") else original
    pictures = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    if not pictures:
        raise ToolError("the timeline has no picture track", "keep at least one video track with clips")
    files: list[Path] = []
    clips, sound_of = _picture(pictures[0], base, original, files)
    audio: list[AudioTrack] = []
    moved: dict[float, float] = {}
    film_gain: dict[int, float] = {}
    has_film_sound = False
    for track in timeline.tracks:
        if track.kind != otio.schema.TrackKind.Audio:
            continue
        film_track = track.name == "Film sound"
        has_film_sound |= film_track
        for item, rng in _placed(track):
            m = item.metadata.get(META) or {}
            if film_track:
                if "index" in m:
                    film_gain[int(m["index"])] = float(m.get("gain_db", 0.0))
                continue
            at, length, start = _secs(rng.start_time), _secs(rng.duration), _secs(item.source_range.start_time)
            half = 0.5 / rng.start_time.rate
            if "at" in m and abs(float(m["at"]) - at) <= half:  # not moved: the exact time, not the frame's
                at = float(m["at"])
            if m.get("effect"):
                role = m.get("kind") if m.get("kind") in ("voice", "music", "effect") else "effect"
                audio.append(AudioTrack(effect=m["effect"], at=at, duration=length, role=role,
                                        gain_db=float(m.get("gain_db", 0.0))))
                continue
            ref = item.media_reference
            if not isinstance(ref, otio.schema.ExternalReference):
                continue
            src = _path(ref.target_url, base)
            files.append(src)
            named = track.name.lower()
            role = m.get("kind") if m.get("kind") in ("voice", "music", "effect") else (
                "voice" if named.startswith("voice") else "effect" if named.startswith("effect") else "music")
            audio.append(AudioTrack(source=str(src), at=at, start=start, end=start + length, role=role,
                                    gain_db=float(m.get("gain_db", 0.0)), fade_in=float(m.get("fade_in", 0.0)),
                                    fade_out=float(m.get("fade_out", 0.0))))
            if role == "voice" and "at" in m and float(m["at"]) != at:
                moved[float(m["at"])] = at
    base_gain = original.original_gain_db if original else 0.0
    for n, clip in enumerate(clips):
        if isinstance(clip, Clip) and has_film_sound:
            index = sound_of[n]
            clip.audio = index is None or index in film_gain  # no metadata: a clip the editor added keeps its sound
            if index in film_gain:
                clip.gain_db = round(film_gain[index] - base_gain, 3)
    subtitles, overlays = _markers(timeline, original)
    keep = original.model_dump(exclude={"clips", "audio", "subtitles", "overlays", "output"}) if original else {}
    edl = EDL.model_validate({**keep, "clips": [c.model_dump() for c in clips], "audio": [a.model_dump() for a in audio],
                              "subtitles": [s.model_dump() for s in subtitles],
                              "overlays": [o.model_dump() for o in overlays], "output": output})
    return EditedTimeline(edl=edl, files=list(dict.fromkeys(files)), moved=moved)


def _placed(track: otio.schema.Track):
    for item in track:
        if isinstance(item, otio.schema.Clip):
            yield item, item.range_in_parent()


def _picture(track: otio.schema.Track, base: list[Path], original: EDL | None, files: list[Path]):
    """Segments of the picture track; a dissolve becomes a crossfade into the clip after it."""
    clips: list = []
    sound_of: list[int | None] = []
    pending: otio.schema.Transition | None = None
    for item in track:
        if isinstance(item, otio.schema.Transition):
            pending = item
            if clips:  # the outgoing clip plays on under the dissolve
                _extend(clips[-1], _secs(item.in_offset))
            continue
        if isinstance(item, otio.schema.Gap):  # black: a card whose one dot is black on black
            clips.append(TitleCard(text=".", duration=_secs(item.duration()), background="black",
                                   style=TextStyle(size=0.01, color="black", border=0.0)))
            sound_of.append(None)
            continue
        if not isinstance(item, otio.schema.Clip):
            continue
        m = item.metadata.get(META) or {}
        index = m.get("index")
        src_seg = original.clips[index] if original is not None and isinstance(index, int) and index < len(original.clips) else None
        length, start = _secs(item.source_range.duration), _secs(item.source_range.start_time)
        speed, freeze = _speed(item)
        trans = None
        if pending is not None:  # the incoming clip starts under the dissolve
            head = _secs(pending.out_offset)
            kinds = Transition.model_fields["kind"].annotation.__args__
            trans = Transition(kind=pending.name if pending.name in kinds else "fade",
                               duration=round(_secs(pending.in_offset) + head, 6))
            length, start = length + head, start - (0.0 if freeze else head * speed)
            pending = None
        if m.get("kind") == "title":
            seg = (src_seg.model_copy(update={"duration": length, "transition": trans}) if isinstance(src_seg, TitleCard)
                   else TitleCard(text=m.get("text") or item.name, duration=length, transition=trans))
        else:
            ref = item.media_reference
            place = original.clips[len(clips)] if original is not None and len(clips) < len(original.clips) else None
            if isinstance(ref, otio.schema.ExternalReference):
                src = _path(ref.target_url, base)
            elif isinstance(place, Clip) and not m:
                # A reader that cannot relink a clip (Kdenlive's time-warped producer): the clip at the same
                # place in the exported edit gives its file and speed; the in point is in warped frames.
                src, speed = Path(place.source), place.speed
                start = start * speed
            else:
                raise ToolError(f"clip {item.name!r} has no media file", "relink it in the editor")
            files.append(src)
            zoom = Zoom.model_validate(m["zoom"]) if m.get("zoom") else None
            if freeze or src.suffix.lower() in STILLS:  # a still (the title card's PNG in another format) is held
                seg = FreezeFrame(source=str(src), at=0.0 if src.suffix.lower() in STILLS else start, duration=length,
                                  zoom=zoom, transition=trans)
            else:
                seg = Clip(source=str(src), start=max(0.0, start), transition=trans,
                           end=start + length * speed, speed=speed, zoom=zoom)
        clips.append(seg)
        sound_of.append(index if isinstance(index, int) else None)
    return clips, sound_of


def _extend(seg, seconds: float) -> None:
    if isinstance(seg, Clip) and seg.end is not None:
        seg.end = round(seg.end + seconds * seg.speed, 6)
    elif isinstance(seg, (FreezeFrame, TitleCard)):
        seg.duration = round(seg.duration + seconds, 6)


def _markers(timeline: otio.schema.Timeline, original: EDL | None) -> tuple[list[SubtitleLine], list[TextOverlay]]:
    subs: list[SubtitleLine] = []
    overlays: list[TextOverlay] = []
    markers = list(timeline.tracks.markers) + [m for t in timeline.tracks for m in t.markers]
    for marker in markers:
        m = marker.metadata.get(META) or {}
        a = _secs(marker.marked_range.start_time)
        b = a + max(_secs(marker.marked_range.duration), 0.04)
        half = 0.5 / marker.marked_range.start_time.rate
        if "start" in m and abs(float(m["start"]) - a) <= half and abs(float(m["end"]) - b) <= 2 * half:
            a, b = float(m["start"]), float(m["end"])  # not moved: the exact times
        text = marker.name or m.get("text") or ""
        if not text.strip():
            continue
        caption = m.get("kind") == "caption" or (not m and marker.color == otio.schema.MarkerColor.CYAN)
        if caption:
            extra = {k: m[k] for k in ("position", "style", "fade") if m.get(k) is not None}
            overlays.append(TextOverlay.model_validate({"text": text, "start": a, "end": b, **extra}))
        else:
            subs.append(SubtitleLine(text=text, start=a, end=b))
    return sorted(subs, key=lambda s: s.start), sorted(overlays, key=lambda o: o.start)


def spans_of(edl: EDL) -> list[dict]:
    """What each piece of the output shows (kind, output and source seconds, speed): the spans a
    render's result reports, for the scorers that check the footage."""
    out, t = [], 0.0
    for n, seg in enumerate(edl.clips):
        if n and seg.transition:
            t -= seg.transition.duration
        if isinstance(seg, Clip):
            d = (seg.end - seg.start) / seg.speed
            kind = "zoom" if seg.zoom else "slow" if seg.speed < 1 else "clip"
            out.append({"kind": kind, "out_start": round(t, 3), "out_end": round(t + d, 3), "src_start": seg.start,
                        "src_end": seg.end, "speed": seg.speed})
        elif isinstance(seg, FreezeFrame):
            d = seg.duration
            out.append({"kind": "freeze", "out_start": round(t, 3), "out_end": round(t + d, 3), "src_start": seg.at,
                        "src_end": seg.at, "speed": 0.0})
        else:
            d = seg.duration
            out.append({"kind": "title", "out_start": round(t, 3), "out_end": round(t + d, 3), "src_start": 0.0,
                        "src_end": 0.0, "speed": 1.0})
        t += d
    return out
