"""OTIO timeline → MLT XML that `melt` (the engine under Kdenlive and Shotcut) renders as we do.

The otio-mlt-adapter (0.3.0) writes producers and playlists but no mixing: MLT then plays only the
top track's sound (the voices would be lost), it drops an audio clip whose file a video clip also
uses (the film's own sound under its gain), keeps no clip gain, and reads a time-warped clip from
the unwarped in point. This writer keeps the adapter's layout (one playlist per track, a tractor
over them) and adds what a faithful render needs: a `mix` transition per sound track, the volume
filter with the gain/ducking keyframes, `timewarp` producers with warped in/out points, `hold`
producers for freeze frames and a still-image producer for the title card.
"""
from __future__ import annotations

from fractions import Fraction
from xml.dom import minidom
from xml.etree import ElementTree as ET

import opentimelineio as otio

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _prop(parent: ET.Element, name: str, value: object) -> None:
    ET.SubElement(parent, "property", name=name).text = str(value)


def _rate(fps: float) -> Fraction:
    for ntsc in (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)):
        if abs(fps - float(ntsc)) < 0.004:
            return ntsc
    return Fraction(fps).limit_denominator(1001)


class _Writer:
    def __init__(self, timeline: otio.schema.Timeline, width: int, height: int, fps: float):
        self.tl, self.fps = timeline, fps
        self.root = ET.Element("mlt", LC_NUMERIC="C", title=timeline.name or "timeline")
        rate = _rate(fps)
        ET.SubElement(self.root, "profile", description="animstudio", width=str(width), height=str(height),
                      frame_rate_num=str(rate.numerator), frame_rate_den=str(rate.denominator), progressive="1",
                      sample_aspect_num="1", sample_aspect_den="1", display_aspect_num=str(width),
                      display_aspect_den=str(height), colorspace="601")  # ffmpeg's default matrix, as our render
        self.producers: dict[tuple, str] = {}
        self.body: list[ET.Element] = []

    def frames(self, t: otio.opentime.RationalTime) -> int:
        return round(t.to_seconds() * self.fps)

    def producer(self, url: str, service: str, extra: dict[str, object]) -> str:
        key = (url, service, tuple(sorted(extra.items())))
        if key not in self.producers:
            pid = f"producer{len(self.producers)}"
            el = ET.Element("producer", id=pid)
            _prop(el, "resource", f"{extra['warp_speed']}:{url}" if service == "timewarp" else url)
            _prop(el, "mlt_service", service)
            for k, v in extra.items():
                _prop(el, k, v)
            self.body.append(el)
            self.producers[key] = pid
        return self.producers[key]

    def entry(self, playlist: ET.Element, clip: otio.schema.Clip) -> None:
        ref = clip.media_reference
        url = getattr(ref, "target_url", "") or ""
        start, length = self.frames(clip.source_range.start_time), self.frames(clip.source_range.duration)
        effects = list(clip.effects)
        freeze = next((e for e in effects if isinstance(e, otio.schema.FreezeFrame)), None)
        warp = next((e for e in effects if isinstance(e, otio.schema.LinearTimeWarp) and freeze is None), None)
        if url.lower().endswith(IMAGE_SUFFIXES):
            pid, a = self.producer(url, "pixbuf", {"ttl": 1, "length": max(length, 1)}), 0
        elif freeze is not None:
            pid, a = self.producer(url, "hold", {"frame": start, "length": max(length, 1)}), 0
        elif warp is not None and abs(warp.time_scalar - 1.0) > 1e-6:
            speed = round(float(warp.time_scalar), 6)
            pid, a = self.producer(url, "timewarp", {"warp_speed": speed}), round(start / speed)
        else:
            pid, a = self.producer(url, "avformat", {}), start
        el = ET.SubElement(playlist, "entry", producer=pid, attrib={"in": str(a), "out": str(a + length - 1)})
        for e in effects:
            keys = e.metadata.get("keyframes") if e.effect_name == "volume" else None
            if keys:
                f = ET.SubElement(el, "filter")
                _prop(f, "mlt_service", "volume")
                _prop(f, "level", ";".join(f"{k}={v}" for k, v in keys.items()))

    def track(self, n: int, track: otio.schema.Track) -> ET.Element:
        playlist = ET.Element("playlist", id=f"playlist{n}")
        _prop(playlist, "title", track.name)
        # A crossfade is played as a cut in its middle: each side keeps half (the OTIO cut point).
        for item in track:
            if isinstance(item, otio.schema.Clip):
                self.entry(playlist, item)
            elif isinstance(item, otio.schema.Gap):
                ET.SubElement(playlist, "blank", length=str(self.frames(item.duration())))
        self.body.append(playlist)
        return playlist

    def write(self) -> str:
        tractor = ET.Element("tractor", id="tractor0")
        _prop(tractor, "title", self.tl.name or "timeline")
        multitrack = ET.SubElement(tractor, "multitrack")
        kinds = []
        for n, track in enumerate(self.tl.tracks):
            pl = self.track(n, track)
            video = track.kind == otio.schema.TrackKind.Video
            kinds.append(video)
            # Picture tracks give only picture (the film's sound has its own track); sound tracks only sound.
            ET.SubElement(multitrack, "track", producer=pl.get("id"), hide="audio" if video else "video")
        for n in range(1, len(kinds)):
            if not kinds[n]:
                t = ET.SubElement(tractor, "transition")
                for k, v in (("mlt_service", "mix"), ("a_track", 0), ("b_track", n), ("always_active", 1), ("sum", 1)):
                    _prop(t, k, v)
            else:
                t = ET.SubElement(tractor, "transition")
                for k, v in (("mlt_service", "qtblend"), ("a_track", 0), ("b_track", n), ("always_active", 1)):
                    _prop(t, k, v)
        for el in self.body:
            self.root.append(el)
        self.root.append(tractor)
        return minidom.parseString(ET.tostring(self.root, "utf-8")).toprettyxml(indent="  ")


def write_mlt(timeline: otio.schema.Timeline, width: int, height: int, fps: float) -> str:
    """MLT XML for `timeline` (media paths as the timeline has them: relative ones resolve against the
    folder the .mlt file is in)."""
    return _Writer(timeline, width, height, fps).write()
