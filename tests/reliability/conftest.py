"""Reliability fixtures: the damaged-media corpus (built once per session) and a tool context whose
child processes run under a low memory bound, so a runaway child cannot hurt the machine."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import isolated_settings_dict
from tests.reliability.corpus import build_corpus

CHILD_MEMORY_MB = 700  # well above what a 160x90 job needs, far below what a runaway one reaches


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def bounded_settings_dict(root: Path, **sections) -> dict:
    data = isolated_settings_dict(root)
    data["limits"] = {"child_memory_mb": CHILD_MEMORY_MB, "child_address_space_mb": 6144, "child_timeout_s": 120}
    data["video"] = {"render_timeout_s": 120}
    (root / "samples").mkdir(parents=True, exist_ok=True)
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return data


@pytest.fixture
def bounded_ctx(tmp_path):
    """A tool context in a fresh workspace, with the corpus folder readable as a media root."""
    from tools.core.context import make_context
    from tools.core.settings import settings_from_dict
    from tools.core.trace import Trace
    from tools.core.workspace import Workspace

    def make(media_root: Path | None = None, **sections):
        data = bounded_settings_dict(tmp_path, **sections)
        if media_root is not None:
            data["paths"]["media_roots"] = [str(media_root)]
        settings = settings_from_dict(data)
        ws = Workspace.create(tmp_path / "runs", None, [Path(p) for p in settings.paths.media_roots], new=True)
        return make_context(settings, ws, trace=Trace(ws.root / "trace.jsonl"))

    return make


@pytest.fixture(autouse=True)
def _restore_child_limits():
    """Contexts set process-wide child limits; a low one must not leak into the next test."""
    from tools.core import child_processes

    saved = child_processes.defaults()
    yield
    child_processes.configure(**saved)
