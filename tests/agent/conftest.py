from pathlib import Path

import pytest

from tests.agent import scripted  # noqa: F401  (registers the test tools)
from tests.conftest import isolated_settings_dict


@pytest.fixture
def counters(tmp_path, monkeypatch):
    folder = tmp_path / "counters"
    monkeypatch.setenv("ANIMSTUDIO_TEST_COUNTERS", str(folder))
    return folder


def write_workflows(folder: Path, score: float = 0.9) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.yaml").write_text(scripted.WORKFLOW.replace("SCORE", str(score)))
    (folder / "slow.yaml").write_text(scripted.SLOW_WORKFLOW)
    return folder


@pytest.fixture
def agent_settings(tmp_path):
    """Settings with the test workflows and everything under tmp_path."""
    from tools.core.settings import settings_from_dict

    def make(score: float = 0.9, **extra):
        data = isolated_settings_dict(tmp_path)
        data["agent"] = {"workflow_dirs": [str(write_workflows(tmp_path / "wf", score))], **extra.pop("agent", {})}
        for key, value in extra.items():
            data[key] = value
        (tmp_path / "samples").mkdir(exist_ok=True)
        return settings_from_dict(data)

    return make
