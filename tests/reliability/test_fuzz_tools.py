"""Fuzzing every registered tool through `invoke`, with arguments drawn from its own JSON schema.

For each example: the call returns an outcome (never raises, never an "unexpected" error: that is
a bug), nothing is written outside the run's workspace and the configured data folders, and no
child process is left running.

Normal suite: a few examples per tool. On demand: ANIMSTUDIO_FUZZ=long (or the hypothesis profile
"fuzz-long") runs many more, e.g. `ANIMSTUDIO_FUZZ=long pytest tests/reliability/test_fuzz_tools.py`.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.conftest import bounded_settings_dict
from tests.reliability.schema_strategies import strategy
from tools.core.child_processes import live_children
from tools.core.registry import all_tools, get_tool, invoke

settings.register_profile("fuzz-quick", max_examples=3, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("fuzz-long", max_examples=150, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
PROFILE = "fuzz-long" if os.environ.get("ANIMSTUDIO_FUZZ") == "long" else "fuzz-quick"
DATA_DIRS = ("runs", "cache", "datasets", "samples", "chroma", "locks")  # where tools may write
CHILD_NAMES = {"ffmpeg", "ffprobe", "espeak-ng", "espeak", "piper"}
# Valid values of these arguments are expensive, not interesting: keep them small (plus hostile ones).
OVERRIDES = {"make_sample_film": {"duration_s": st.sampled_from([5.0, 4.9, 601.0, float("nan"), -5.0])},
             "dataset_train_lora": {"max_steps": st.sampled_from([None, 1, 0, -1, 10**9])}}


@pytest.fixture(scope="module")
def arena(tmp_path_factory, corpus):
    """A data root: a media library (corpus copies, an image, a link pointing outside), a folder
    outside everything that must stay untouched, and settings writing only below the data dirs."""
    from tools.core.settings import settings_from_dict

    root = tmp_path_factory.mktemp("fuzz")
    library, outside = root / "library", root / "outside"
    library.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("not for tools\n")
    for name in ("good", "truncated", "not media", "audio only", "huge dimensions"):
        shutil.copy(corpus[name], library / corpus[name].name)
    import cv2
    import numpy as np

    cv2.imwrite(str(library / "still.png"), np.full((90, 160, 3), 120, np.uint8))
    (library / "escape.mp4").symlink_to(outside / "secret.txt")
    data = bounded_settings_dict(root, limits={"child_timeout_s": 30}, video={"render_timeout_s": 30,
                                                                              "width": 160, "height": 90})
    data["paths"]["media_roots"] = [str(library)]
    paths = [str(p) for p in sorted(library.iterdir())] + [p.name for p in sorted(library.iterdir())] + \
        [str(outside / "secret.txt"), "../outside/secret.txt", str(root / "runs")]
    return {"root": root, "settings": settings_from_dict(data), "paths": paths}


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    files = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if rel.parts[0] in DATA_DIRS or not path.is_file():
            continue
        st_ = path.lstat()
        files[str(rel)] = (st_.st_size, st_.st_mtime_ns)
    return files


def _stray_children() -> list[str]:
    kids = psutil.Process().children(recursive=True)
    return [f"{k.pid}:{k.name()}" for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE
            and k.name() in CHILD_NAMES]


@pytest.mark.parametrize("tool", [spec.name for spec in all_tools() if spec.func.__module__.startswith("tools.")])
def test_no_argument_escapes_the_sandbox_or_crashes_a_tool(tool, arena, monkeypatch):
    from tools.core.context import make_context
    from tools.core.trace import Trace
    from tools.core.workspace import Workspace

    spec = get_tool(tool)
    cwd = arena["root"] / "cwd"
    cwd.mkdir(exist_ok=True)
    monkeypatch.chdir(cwd)  # relative writes would land here: it must stay empty
    args_strategy = strategy(spec.args_model.model_json_schema(), paths=arena["paths"], path_keys=set(spec.path_roles),
                             overrides=OVERRIDES.get(tool))
    before = _snapshot(arena["root"])

    @settings(settings.get_profile(PROFILE))
    @given(args=args_strategy)
    def call(args):
        ws = Workspace.create(arena["root"] / "runs", None, arena["settings"].paths.media_roots, new=True)
        ctx = make_context(arena["settings"], ws, trace=Trace(ws.root / "trace.jsonl"))
        outcome = invoke(tool, args, ctx)
        assert outcome.ok or outcome.error_kind in ("validation", "tool"), (args, outcome.error)
        assert _snapshot(arena["root"]) == before, f"{tool} wrote outside its workspace with {args!r}"
        assert not live_children() and not _stray_children(), f"{tool} left a child process running"

    call()
    assert not any(cwd.iterdir())
