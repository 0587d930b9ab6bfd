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
STILL_MARGIN_S = 5.0  # a held frame or a picture reaches this far either side (the longest transition)


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

    def source(self, clip: otio.schema.Clip) -> tuple[str, int]:
        """The producer playing `clip` and the producer frame of the clip's first output frame; from
        there producer frames advance one per output frame (a timewarp producer counts warped frames)."""
        url = getattr(clip.media_reference, "target_url", "") or ""
        start, length = self.frames(clip.source_range.start_time), self.frames(clip.source_range.duration)
        freeze = next((e for e in clip.effects if isinstance(e, otio.schema.FreezeFrame)), None)
        warp = next((e for e in clip.effects if isinstance(e, otio.schema.LinearTimeWarp) and freeze is None), None)
        margin = round(STILL_MARGIN_S * self.fps)  # room before and after a still for dissolves into it
        if url.lower().endswith(IMAGE_SUFFIXES):
            return self.producer(url, "pixbuf", {"ttl": 1, "length": length + 2 * margin}), margin
        if freeze is not None:
            return self.producer(url, "hold", {"frame": start, "length": length + 2 * margin}), margin
        if warp is not None and abs(warp.time_scalar - 1.0) > 1e-6:
            speed = round(float(warp.time_scalar), 6)
            return self.producer(url, "timewarp", {"warp_speed": speed}), round(start / speed)
        return self.producer(url, "avformat", {}), start

    def entry(self, playlist: ET.Element, clip: otio.schema.Clip, head: int, tail: int) -> None:
        """The clip without the `head`/`tail` frames that dissolves play."""
        pid, a = self.source(clip)
        length = self.frames(clip.source_range.duration)
        el = ET.SubElement(playlist, "entry", producer=pid,
                           attrib={"in": str(a + head), "out": str(a + length - tail - 1)})
        for e in clip.effects:
            keys = e.metadata.get("keyframes") if e.effect_name == "volume" else None
            if keys:
                f = ET.SubElement(el, "filter")
                _prop(f, "mlt_service", "volume")
                shifted = {max(0, int(k) - head): v for k, v in keys.items()}  # keys count from the entry's in
                _prop(f, "level", ";".join(f"{k}={v}" for k, v in sorted(shifted.items())))

    def dissolve(self, playlist: ET.Element, a: otio.schema.Clip, b: otio.schema.Clip,
                 before: int, after: int) -> None:
        """A dissolve from the end of `a` into the start of `b`: a tractor of both pieces with a luma
        transition, `before` frames before the cut and `after` frames after it."""
        (pa, a0), (pb, b0) = self.source(a), self.source(b)
        a_end = a0 + self.frames(a.source_range.duration)  # a's frame at the cut
        d = before + after
        tid = f"dissolve{len(self.body)}"
        tractor = ET.Element("tractor", id=tid, attrib={"in": "0", "out": str(d - 1)})
        ET.SubElement(tractor, "track", producer=pa, attrib={"in": str(a_end - before), "out": str(a_end + after - 1)})
        ET.SubElement(tractor, "track", producer=pb, attrib={"in": str(b0 - before), "out": str(b0 + after - 1)})
        t = ET.SubElement(tractor, "transition", attrib={"in": "0", "out": str(d - 1)})
        for k, v in (("mlt_service", "luma"), ("a_track", 0), ("b_track", 1)):
            _prop(t, k, v)
        self.body.append(tractor)
        ET.SubElement(playlist, "entry", producer=tid, attrib={"in": "0", "out": str(d - 1)})

    def track(self, n: int, track: otio.schema.Track) -> ET.Element:
        playlist = ET.Element("playlist", id=f"playlist{n}")
        _prop(playlist, "title", track.name)
        items = list(track)
        for i, item in enumerate(items):
            prev = items[i - 1] if i else None
            nxt = items[i + 1] if i + 1 < len(items) else None
            if isinstance(item, otio.schema.Clip):
                head = self.frames(prev.out_offset) if isinstance(prev, otio.schema.Transition) else 0
                tail = self.frames(nxt.in_offset) if isinstance(nxt, otio.schema.Transition) else 0
                self.entry(playlist, item, head, tail)
            elif isinstance(item, otio.schema.Transition) and isinstance(prev, otio.schema.Clip) \
                    and isinstance(nxt, otio.schema.Clip):
                self.dissolve(playlist, prev, nxt, self.frames(item.in_offset), self.frames(item.out_offset))
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
