import os

import pytest

from tools.core.types import ToolError
from tools.core.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    media = tmp_path / "films"
    media.mkdir()
    (media / "luca ocean é.mp4").write_bytes(b"x")
    return Workspace(tmp_path / "runs" / "r1", [media])


def test_relative_paths_resolve_inside_and_outputs_stay_inside(ws):
    out = ws.resolve_output("clips/out file ✓.mp4")
    assert out.parent.is_dir() and out.is_relative_to(ws.root)
    out.write_bytes(b"1")
    assert ws.resolve_input("clips/out file ✓.mp4") == out
    assert ws.relative(out) == "clips/out file ✓.mp4"


@pytest.mark.parametrize("bad", ["../escape.txt", "/etc/passwd", "clips/../../x", "", "a\x00b"])
def test_escapes_are_rejected(ws, bad):
    with pytest.raises(ToolError):
        ws.resolve_output(bad)
    with pytest.raises(ToolError):
        ws.resolve_input(bad)


def test_symlink_pointing_outside_is_rejected(ws, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s")
    os.symlink(secret, ws.root / "link.txt")
    with pytest.raises(ToolError, match="outside"):
        ws.resolve_input("link.txt")
    with pytest.raises(ToolError, match="escapes"):
        ws.resolve_output("link.txt")


def test_media_roots_and_user_named_files_are_readable(ws, tmp_path):
    assert ws.resolve_input("luca ocean é.mp4").name == "luca ocean é.mp4"  # found in the media root
    other = tmp_path / "elsewhere" / "film.mp4"
    other.parent.mkdir()
    other.write_bytes(b"x")
    with pytest.raises(ToolError):
        ws.resolve_input(str(other))
    ws.allow_file(other)  # the user named it (--film)
    assert ws.resolve_input(str(other)) == other.resolve()
    with pytest.raises(ToolError, match="not found"):
        ws.resolve_input("nope.mp4")


def test_run_ids_are_validated(tmp_path):
    with pytest.raises(ToolError):
        Workspace.create(tmp_path, "../evil")
    assert Workspace.create(tmp_path, "run-1").run_id == "run-1"


def test_one_media_root_lookup_for_films_and_tool_inputs(tmp_path):
    from agent.api import check_film
    from tools.core.settings import settings_from_dict
    from tools.core.workspace import find_in_media_roots

    first, second, outside = tmp_path / "a", tmp_path / "b", tmp_path / "elsewhere"
    for d in (first, second, outside):
        d.mkdir()
    (second / "film.txt").write_text("x")
    (first / "escape.txt").symlink_to(outside / "secret.txt")
    (outside / "secret.txt").write_text("x")
    assert find_in_media_roots("film.txt", [first, second]) == (second / "film.txt").resolve()
    assert find_in_media_roots("escape.txt", [first]) is None  # a link out of its root is not in the library
    assert find_in_media_roots("../elsewhere/secret.txt", [first]) is None
    assert find_in_media_roots(second / "film.txt", [second]) is None  # absolute paths are not looked up
    ws = Workspace(tmp_path / "run", [first, second])
    assert ws.resolve_input("film.txt") == find_in_media_roots("film.txt", [first, second])
    settings = settings_from_dict({"paths": {"media_roots": [str(first), str(second)]}})
    with pytest.raises(Exception, match="not a usable film"):  # found in the library, then probed
        check_film("film.txt", settings)
