"""What a read-back timeline holds, checked feature by feature from the timeline itself (and, for MLT,
which has no OTIO reader, from the XML melt reads) — independent of how the exporter wrote it."""
from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import opentimelineio as otio

from tools.video.edl import EDL


def _clips(tl: otio.schema.Timeline, kind: str) -> list[otio.schema.Clip]:
    return [c for t in tl.tracks if t.kind == kind for c in t if isinstance(c, otio.schema.Clip)]


def _url(c: otio.schema.Clip) -> str:
    return getattr(c.media_reference, "target_url", "") or ""


def _markers(tl: otio.schema.Timeline) -> list[str]:
    found = [m.name for m in tl.tracks.markers]
    for t in tl.tracks:
        found += [m.name for m in t.markers]
        found += [m.name for c in t if isinstance(c, otio.core.Item) for m in c.markers]
    return found


def _length(edl: EDL) -> float:
    from tools.video.filtergraph import segment_duration

    return sum(segment_duration(c) for c in edl.clips) - sum(c.transition.duration for c in edl.clips[1:] if c.transition)


def otio_has(feature: str, tl: otio.schema.Timeline, edl: EDL) -> bool:
    video, audio = _clips(tl, otio.schema.TrackKind.Video), _clips(tl, otio.schema.TrackKind.Audio)
    films = {Path(c.source).name for c in edl.clips if hasattr(c, "source")}
    voices = [Path(t.source).name for t in edl.audio if t.role == "voice" and t.source]
    levels = [e for c in audio for e in c.effects if e.effect_name == "volume"]
    if feature == "cuts":  # every film segment is a picture clip, and the edit keeps its length
        total = sum(c.duration().to_seconds() for t in tl.tracks if t.kind == otio.schema.TrackKind.Video for c in t
                    if not isinstance(c, otio.schema.Transition))
        film_clips = [c for c in video if not _url(c).lower().endswith(".png")]  # a reader may lose a warped one's file
        return len(film_clips) >= sum(hasattr(c, "source") for c in edl.clips) and abs(total - _length(edl)) < 0.1
    if feature == "speed":
        return any(isinstance(e, otio.schema.LinearTimeWarp) and not isinstance(e, otio.schema.FreezeFrame)
                   and abs(e.time_scalar - 1) > 1e-6 for c in video for e in c.effects)
    if feature == "freeze":
        return any(isinstance(e, otio.schema.FreezeFrame) for c in video for e in c.effects)
    if feature == "title":
        return any(_url(c).lower().endswith(".png") for c in video)
    if feature == "crossfade":
        return any(isinstance(i, otio.schema.Transition) for t in tl.tracks for i in t)
    if feature == "film_sound":
        return any(Path(_url(c)).name in films for c in audio)
    if feature == "voices":
        return sorted(Path(_url(c)).name for c in audio if Path(_url(c)).name in voices) == sorted(voices)
    if feature in ("gain", "ducking"):
        keys = [float(v) for e in levels for v in (e.metadata.get("keyframes") or {}).values()]
        return bool(keys) and (feature == "gain" or min(keys) < max(keys) - 3)
    if feature == "effects":
        return sum("effect_" in _url(c) for c in audio) == sum(bool(t.effect) for t in edl.audio)
    if feature == "music":
        music = [Path(t.source).name for t in edl.audio if t.role == "music" and t.source]
        return bool(music) and all(any(Path(_url(c)).name == m for c in audio) for m in music)
    if feature in ("subtitles", "captions"):
        texts = [s.text for s in (edl.subtitles if feature == "subtitles" else edl.overlays)]
        names = _markers(tl)
        return all(any(" ".join(t.split()) == " ".join(n.split()) for n in names) for t in texts)
    return False


def mlt_has(feature: str, xml_text: str, edl: EDL) -> bool:
    root = ET.fromstring(xml_text)
    props = [(p.get("name"), p.text or "") for p in root.iter("property")]
    services = [v for k, v in props if k == "mlt_service"]
    resources = [v for k, v in props if k == "resource"]
    titles = [v for k, v in props if k == "title"]
    voices = [Path(t.source).name for t in edl.audio if t.role == "voice" and t.source]
    levels = [v for k, v in props if k == "level"]
    if feature == "cuts":
        return len(root.findall(".//playlist[@id='playlist0']/entry")) >= sum(hasattr(c, "source") for c in edl.clips)
    if feature == "speed":
        return "timewarp" in services
    if feature == "freeze":
        return "hold" in services
    if feature == "crossfade":
        return "luma" in services
    if feature == "title":
        return any(r.lower().endswith(".png") for r in resources)
    if feature == "film_sound":
        return "Film sound" in titles and services.count("mix") >= 1
    if feature == "voices":
        return all(any(r.endswith(v) for r in resources) for v in voices) and services.count("mix") >= len(voices)
    if feature in ("gain", "ducking"):
        values = [float(kv.split("=")[1]) for lv in levels for kv in lv.split(";")]
        return bool(values) and (feature == "gain" or min(values) < max(values) - 3)
    if feature == "effects":
        return sum("effect_" in r for r in resources) == sum(bool(t.effect) for t in edl.audio)
    if feature == "music":
        return any(t.startswith("Music") for t in titles)
    return False  # no markers, zooms, fades or loudness in the MLT we write


def kdenlive_has(feature: str, xml_text: str, edl: EDL) -> bool:
    """What the Kdenlive file holds that the adapter's reader does not read back (a warped clip's speed)."""
    if feature != "speed":
        return False
    root = ET.fromstring(xml_text)
    speeds = {float(p.text) for p in root.iter("property") if p.get("name") == "warp_speed"}
    return {c.speed for c in edl.clips if getattr(c, "speed", 1.0) != 1.0} <= speeds and bool(speeds)
