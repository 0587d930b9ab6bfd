"""A scene shorter than one usable clip (a one-frame film) must not hang the parody edit.

The footage is filled by replaying the scene in slow motion; when the scene holds less than one
clip's worth of source, there is nothing to replay and the last frame is held instead. This runs
in pure Python (no child process), so no child limit could stop a loop here.
"""
from __future__ import annotations

import threading

from tools.parody.timeline import build_segments
from tools.video.edl import FreezeFrame


def _segments_within(seconds: float, *args, **kwargs):
    box: dict = {}
    worker = threading.Thread(target=lambda: box.update(out=build_segments(*args, **kwargs)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "build_segments did not return: the replay loop never ends"
    return box["out"]


def test_a_one_frame_scene_is_held_not_replayed_forever():
    segs, spans = _segments_within(10.0, "one frame.mp4", (0.0, 0.04), 12.0, [], 1.0, replay=True)
    assert sum(s.out_end - s.out_start for s in spans) == 12.0
    assert isinstance(segs[-1], FreezeFrame) and spans[-1].kind == "freeze"


def test_a_short_scene_is_still_replayed():
    segs, spans = _segments_within(10.0, "short.mp4", (1.0, 2.0), 6.0, [], 1.0, replay=True)
    assert any(s.kind == "replay" for s in spans)
    assert abs(sum(s.out_end - s.out_start for s in spans) - 6.0) < 1e-6
