"""The timeline formats users open, which feature of an edit each keeps, and the writers.

`keeps` is what a format holds after a write and a read back through its adapter (tests check every
claim against the read-back; MLT has no reader: melt renders it). What a format cannot hold is named
in the written file itself (an XML comment, or CMX 3600 comment lines) and in the run report."""
from __future__ import annotations

import contextlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import opentimelineio as otio

from tools.video.edl import EDL, Clip, FreezeFrame, TitleCard

FormatName = Literal["otio", "kdenlive", "mlt", "fcpxml", "fcp7", "edl"]

# What an edit can hold, in the words the report and the docs use.
FEATURES: dict[str, str] = {
    "cuts": "film clips at their source ranges",
    "speed": "speed changes (linear time warp)",
    "freeze": "freeze frames (held frame)",
    "title": "title card (a picture)",
    "crossfade": "crossfades between clips",
    "film_sound": "the film's sound on its own track",
    "gain": "clip gain",
    "ducking": "ducking of the film's sound under the voices",
    "voices": "a track per voice line",
    "effects": "sound effects on their own track",
    "music": "music on its own track",
    "subtitles": "subtitles (markers)",
    "captions": "captions (markers)",
    "zoom": "zoom punch-ins",
    "fades": "fade in/out of the whole edit",
    "loudness": "the loudness pass (EBU R128)",
}
EVERYWHERE_LOST = frozenset({"zoom", "fades", "loudness"})  # no adapter writes these effects


@dataclass(frozen=True)
class Format:
    adapter: str  # OTIO adapter name ("" = our own writer)
    suffix: str
    label: str
    keeps: frozenset[str]
    video_only: bool = False  # one picture track, no sound (a cut list)


FORMATS: dict[str, Format] = {
    "otio": Format("otio_json", ".otio", "OpenTimelineIO", frozenset(set(FEATURES) - EVERYWHERE_LOST)),
    "kdenlive": Format("kdenlive", ".kdenlive", "Kdenlive project",
                       frozenset({"cuts", "speed", "title", "film_sound", "gain", "ducking", "voices", "effects",
                                  "music", "subtitles", "captions"})),
    "mlt": Format("", ".mlt", "MLT XML (melt, Shotcut)",
                  frozenset({"cuts", "speed", "freeze", "title", "crossfade", "film_sound", "gain", "ducking", "voices",
                             "effects", "music"})),
    "fcpxml": Format("fcpx_xml", ".fcpxml", "Final Cut Pro X XML",
                     frozenset({"cuts", "title", "film_sound", "voices", "effects", "music"})),
    "fcp7": Format("fcp_xml", ".xml", "Final Cut Pro 7 XML (Premiere, Resolve)",
                   frozenset({"cuts", "title", "crossfade", "film_sound", "voices", "effects", "music", "subtitles",
                              "captions"})),
    "edl": Format("cmx_3600", ".edl", "CMX 3600 EDL (the cut list)",
                  frozenset({"cuts", "speed", "title", "crossfade"}), video_only=True),
}


def used_features(edl: EDL) -> set[str]:
    """The features this edit uses (what an export may lose)."""
    used = {"cuts"} if any(isinstance(c, Clip) for c in edl.clips) else set()
    segs = edl.clips
    used |= {"speed"} if any(isinstance(c, Clip) and abs(c.speed - 1) > 1e-6 for c in segs) else set()
    used |= {"freeze"} if any(isinstance(c, FreezeFrame) for c in segs) else set()
    used |= {"title"} if any(isinstance(c, TitleCard) for c in segs) else set()
    used |= {"crossfade"} if any(c.transition for c in segs[1:]) else set()
    used |= {"zoom"} if any(getattr(c, "zoom", None) for c in segs) else set()
    if any(isinstance(c, Clip) and c.audio for c in segs):
        used.add("film_sound")
    if edl.original_gain_db or any(getattr(c, "gain_db", 0.0) for c in segs) or any(t.gain_db for t in edl.audio):
        used.add("gain")
    voices = [t for t in edl.audio if t.role == "voice" and t.source]
    used |= {"voices"} if voices else set()
    used |= {"ducking"} if voices and edl.duck.enabled and "film_sound" in used else set()
    used |= {"effects"} if any(t.effect for t in edl.audio) else set()
    used |= {"music"} if any(t.role == "music" for t in edl.audio) else set()
    used |= {"subtitles"} if edl.subtitles else set()
    used |= {"captions"} if edl.overlays else set()
    used |= {"fades"} if edl.fade_in or edl.fade_out else set()
    used |= {"loudness"} if edl.loudness_lufs is not None else set()
    return used


def lost_features(edl: EDL, fmt: str) -> list[str]:
    return sorted(used_features(edl) - FORMATS[fmt].keeps)


def _note(edl: EDL, fmt: str) -> str:
    lost = lost_features(edl, fmt)
    if not lost:
        return "animstudio: this file holds every feature of the edit"
    return ("animstudio: this format cannot hold " + "; ".join(FEATURES[f] for f in lost)
            + " - the project's own render has them (the .otio file keeps them as metadata)")


def _picture_only(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    cut = timeline.deepcopy()
    for track in list(cut.tracks):
        if track.kind != otio.schema.TrackKind.Video:
            cut.tracks.remove(track)
    while len(cut.tracks) > 1:
        cut.tracks.pop()
    for clip in cut.find_clips():  # reel names without spaces: the CMX adapter keeps them and then misreads its line
        name = Path(getattr(clip.media_reference, "target_url", "") or clip.name).stem
        clip.metadata["cmx_3600"] = {"reel": (re.sub(r"[^A-Za-z0-9]", "", name) or "AX")[:8]}
    return cut


def render_format(timeline: otio.schema.Timeline, edl: EDL, fmt: str) -> str:
    """The file's text in format `fmt`, with what the format cannot hold said inside it."""
    spec = FORMATS[fmt]
    note = _note(edl, fmt)
    meta = timeline.metadata.get("animstudio", {})
    if fmt == "otio":
        tl = timeline.deepcopy()
        tl.metadata["animstudio"] = {**meta, "not_kept": lost_features(edl, fmt), "note": note}
        return otio.adapters.write_to_string(tl, adapter_name=spec.adapter)
    if fmt == "mlt":
        from tools.video.timeline.mlt import write_mlt

        text = write_mlt(timeline, int(meta["width"]), int(meta["height"]), float(meta["fps"]))
    else:
        tl = _picture_only(timeline) if spec.video_only else timeline
        with contextlib.redirect_stdout(io.StringIO()):  # the Kdenlive adapter prints a deprecation banner
            text = otio.adapters.write_to_string(tl, adapter_name=spec.adapter)
    if fmt == "edl":  # a CMX 3600 comment line; readers take comments only after an event line
        lines = text.splitlines()
        at = next((i + 1 for i, line in enumerate(lines) if line[:3].strip().isdigit()), len(lines))
        return "\n".join(lines[:at] + [f"* {note}"] + lines[at:]) + "\n"
    head, sep, rest = text.partition("?>")  # after the XML declaration
    comment = "<!-- " + note.replace("--", "-") + " -->"
    return f"{head}{sep}\n{comment}{rest}" if sep else f"{comment}\n{text}"


def write_format(timeline: otio.schema.Timeline, edl: EDL, fmt: str, path: Path) -> Path:
    path.write_text(render_format(timeline, edl, fmt), encoding="utf-8")
    return path


def read_back(path: Path, fmt: str) -> otio.schema.Timeline:
    """Read a written file with its adapter's reader (MLT has none: melt reads it)."""
    spec = FORMATS[fmt]
    if not spec.adapter:
        raise ValueError(f"{fmt} has no OTIO reader; melt reads it")
    with contextlib.redirect_stdout(io.StringIO()):
        got = otio.adapters.read_from_file(str(path), adapter_name=spec.adapter)
    if isinstance(got, otio.schema.SerializableCollection):
        got = next(iter(got))
    return got
