import subprocess

import pytest

from tools.core.context import make_context
from tools.core.registry import invoke
from tools.core.workspace import Workspace


@pytest.fixture
def ctx(isolated_settings, tmp_path):
    return make_context(isolated_settings, Workspace(tmp_path / "ws", [tmp_path / "samples"]))


def _video(path, audio=True):
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=96x64:rate=12"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=f=330"]
    args += ["-t", "1.5", "-c:v", "libx264", "-pix_fmt", "yuv420p"] + (["-c:a", "aac"] if audio else []) + [str(path)]
    subprocess.run(args, check=True)
    return path


def test_probe_media_reports_streams_duration_and_fps(ctx, tmp_path):
    film = _video(tmp_path / "samples" / "my film ✓.mp4")
    out = invoke("probe_media", {"path": "my film ✓.mp4"}, ctx)
    assert out.ok, out.error
    r = out.result
    assert abs(r["duration"] - 1.5) < 0.1 and (r["width"], r["height"]) == (96, 64)
    assert r["has_audio"] and r["has_video"] and abs(r["fps"] - 12) < 0.01
    silent = _video(tmp_path / "samples" / "silent.mp4", audio=False)
    assert invoke("probe_media", {"path": str(silent)}, ctx).result["has_audio"] is False
    assert film.exists()


@pytest.mark.parametrize("content, fragment", [(b"", "empty"), (b"this is not a video at all" * 20, "not a readable")])
def test_probe_media_rejects_non_media_clearly(ctx, tmp_path, content, fragment):
    bad = tmp_path / "samples" / "bad.mp4"
    bad.write_bytes(content)
    out = invoke("probe_media", {"path": "bad.mp4"}, ctx)
    assert not out.ok and fragment in out.error


def test_list_media_finds_films_and_user_files(ctx, tmp_path):
    _video(tmp_path / "samples" / "a.mp4")
    (tmp_path / "samples" / "notes.txt").write_text("x")
    other = _video(tmp_path / "other.mp4")
    ctx.workspace.allow_file(other)
    out = invoke("list_media", {"pattern": "*.mp4"}, ctx)
    names = sorted(f["path"].rsplit("/", 1)[-1] for f in out.result["files"])
    assert names == ["a.mp4", "other.mp4"]
    assert not invoke("list_media", {"pattern": "../*"}, ctx).ok
