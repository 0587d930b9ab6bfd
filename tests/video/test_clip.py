"""extract_clip: stream copy on a keyframe, accurate re-encode elsewhere, clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.video.conftest import frame_at
from tools.core.registry import invoke
from tools.media.probe import media_info


def test_keyframe_in_point_is_stream_copied(ctx, film: Path) -> None:
    out = invoke("extract_clip", {"film": str(film), "start": 1.0, "end": 2.0}, ctx)  # GOP = 1 s
    assert out.ok, out.error
    assert out.result["mode"] == "copy"
    clip = ctx.workspace.root / out.result["path"]
    assert media_info(clip).duration == pytest.approx(1.0, abs=0.1)
    assert frame_at(clip, 0.3)[..., 1].mean() > frame_at(clip, 0.3)[..., 2].mean()  # the green forest


def test_mid_gop_in_point_is_reencoded_accurately(ctx, film: Path) -> None:
    out = invoke("extract_clip", {"film": str(film), "start": 0.5, "end": 1.5}, ctx)
    assert out.ok, out.error
    assert out.result["mode"] == "reencode"
    clip = ctx.workspace.root / out.result["path"]
    assert media_info(clip).duration == pytest.approx(1.0, abs=0.1)
    first, last = frame_at(clip, 0.1), frame_at(clip, 0.9)
    assert first[60:, :, 2].mean() > first[60:, :, 1].mean()  # starts in the ocean (blue water)
    assert last[..., 1].mean() > last[..., 2].mean()  # ends in the forest


@pytest.mark.parametrize("start, end, expect", [(2.0, 2.0, "empty"), (3.0, 1.0, "empty"),
                                                (0.0, 9.0, "past the end"), (7.0, 8.0, "past the end")])
def test_bad_ranges(ctx, film: Path, start: float, end: float, expect: str) -> None:
    out = invoke("extract_clip", {"film": str(film), "start": start, "end": end}, ctx)
    assert not out.ok and expect in out.error
