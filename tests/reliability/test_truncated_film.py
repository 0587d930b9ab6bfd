"""A truncated film: its index claims 24 s, about 3 s decode. Asking ffmpeg for footage past the
real end made the render grow without bound (the machine's OOM killer stopped it at ~23 GB).
Now the decode probe finds the real end, no clip may pass it, and a runaway child is stopped at
its memory limit with that reason."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from tools.core.child_processes import Child, ChildFailed
from tools.core.types import ToolError
from tools.media.probe import media_info
from tools.video.edl import EDL, Clip, FreezeFrame, Zoom
from tools.video.filtergraph import SourceInfo, compile_edl

# The shape of the parody edit that blew up: freezes and clips reaching far past the decodable end.
RUNAWAY_EDIT = EDL(clips=[FreezeFrame(source="film", at=0.75, duration=2.0), Clip(source="film", start=0.0, end=10.64),
                          FreezeFrame(source="film", at=10.64, duration=1.0),
                          Clip(source="film", start=10.64, end=18.6),
                          Clip(source="film", start=18.6, end=19.6, zoom=Zoom(factor=1.6, ramp=0.2))],
                   output="runaway.mp4")


def render_as_before(film, tmp_path, duration: float, memory_mb: float, timeout_s: float = 90) -> Child:
    """Compile the edit trusting the container's length (what the renderer used to do) and run it.
    Also the anchor of benchmarks/robustness.py."""
    sources = {"film": SourceInfo(path=film, duration=duration, has_audio=True, has_video=True)}
    compiled = compile_edl(RUNAWAY_EDIT, sources, width=160, height=90, fps=24.0, work_dir=tmp_path)
    graph = tmp_path / "graph.txt"
    graph.write_text(compiled.graph, encoding="utf-8")
    args = ["ffmpeg", "-nostdin", "-y", "-v", "error", *compiled.input_args, "-filter_complex_script", str(graph),
            "-map", "[vout]", "-map", "[aout]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
            "-t", f"{compiled.duration:.3f}", "-f", "null", "-"]
    with Child(args, what="ffmpeg render", memory_mb=memory_mb, address_space_mb=0, timeout_s=timeout_s,
               stdout="devnull") as child:
        child.wait()
    return child


def test_the_decode_probe_finds_the_real_end(corpus):
    info = media_info(corpus["truncated"])
    assert info.container_duration == pytest.approx(24.0, abs=0.1)
    assert 1.5 < info.duration < 5.0 and info.truncated
    assert "truncated" in info.warnings[0] and "refused" in info.warnings[0]
    whole = media_info(corpus["good"])
    assert not whole.truncated and whole.duration == pytest.approx(6.0, abs=0.05) and not whole.warnings


def test_the_old_runaway_render_is_stopped_at_its_memory_limit(corpus, tmp_path):
    started = time.monotonic()
    runaway = render_as_before(corpus["truncated"], tmp_path, duration=24.0, memory_mb=300)
    failure = runaway.failure()
    assert failure is not None and failure.reason == "memory", failure
    assert "300 MB memory limit" in str(failure) and time.monotonic() - started < 80


def test_clips_past_the_decodable_end_are_refused(corpus, bounded_ctx):
    from tools.core.registry import invoke

    ctx = bounded_ctx(corpus["truncated"].parent)
    film = str(corpus["truncated"])
    ok = invoke("extract_clip", {"film": film, "start": 0.5, "end": 1.5}, ctx)
    assert ok.ok, ok.error
    late = invoke("extract_clip", {"film": film, "start": 10.0, "end": 12.0}, ctx)
    assert not late.ok and "past the end" in late.error
    edit = {"edl": {"clips": [{"source": film, "start": 0.0, "end": 1.0}, {"source": film, "start": 8.0, "end": 12.0}],
                    "output": "late.mp4"}}
    refused = invoke("render_edit", edit, ctx)
    assert not refused.ok and "start 8.0s is past the end" in refused.error
    assert not list(ctx.workspace.root.rglob("late*"))


def test_a_render_failure_names_the_limit_not_a_timeout(corpus, bounded_ctx):
    from tools.video.render import render

    ctx = bounded_ctx(corpus["good"].parent, limits={"child_memory_mb": 64, "child_address_space_mb": 0})
    edl = EDL.model_validate({"clips": [{"source": str(corpus["good"]), "start": 0.0, "end": 2.0}], "output": "x.mp4"})
    with pytest.raises(ToolError) as err:
        render(ctx, edl)
    assert isinstance(err.value, ChildFailed) and err.value.reason == "memory"
    assert "64 MB memory limit" in err.value.message and "stopped after" not in err.value.message
    assert not list(ctx.workspace.root.rglob("*.mp4"))  # no half-written render left behind


ROOT = Path(__file__).resolve().parents[2]
SINTEL = next((d / "shared" / "films" / "sintel_trailer.mp4" for d in (ROOT.parent, ROOT.parent.parent)
               if (d / "shared" / "films" / "sintel_trailer.mp4").exists()), ROOT.parent / "shared" / "films" / "x")


@pytest.mark.skipif(not SINTEL.exists(), reason="the real film ../shared/films/sintel_trailer.mp4 is absent")
def test_a_truncated_copy_of_a_real_film(tmp_path, bounded_ctx):
    """The Sintel trailer (52 s) cut to its first fifth by bytes: the real end is found, clips stop there."""
    from tools.core.registry import invoke

    whole = media_info(SINTEL)
    assert not whole.truncated and abs(whole.duration - 52.2) < 0.2
    cut = tmp_path / "sintel cut.mp4"
    data = SINTEL.read_bytes()
    cut.write_bytes(data[: len(data) // 5])
    info = media_info(cut)
    assert info.truncated and info.container_duration == pytest.approx(whole.container_duration)
    assert 3.0 < info.duration < 30.0
    ctx = bounded_ctx(tmp_path)
    late = invoke("extract_clip", {"film": str(cut), "start": info.duration + 1.0, "end": info.duration + 3.0}, ctx)
    assert not late.ok and "past the end" in late.error
    early = invoke("extract_clip", {"film": str(cut), "start": 1.0, "end": 2.0}, ctx)
    assert early.ok, early.error
