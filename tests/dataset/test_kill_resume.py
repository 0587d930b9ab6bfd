"""kill -9 in the middle of a stage, then re-run: no finished item redone, none lost."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dataset.conftest import make_settings
from tests.dataset.synth import SCENE_FRAMES, SCENES, make_film
from tools.core.context import make_context
from tools.dataset.extract import extract_frames
from tools.dataset.filter import run_filter
from tools.dataset.metadata import DatasetStore

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # real subprocesses / LoRA training: seconds, not milliseconds


@pytest.fixture(scope="module")
def long_film(tmp_path_factory):
    return make_film(tmp_path_factory.mktemp("long") / "long film.mp4", repeat=2)  # 396 frames, 33 s


def _run_and_kill(tmp: Path, stage: str, film: Path, after_lines: int = 15) -> int:
    """Start the stage in a real process; SIGKILL it once `after_lines` items are journaled."""
    journal = tmp / "datasets" / "killed" / "journal.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "tests.dataset.stage_runner", str(tmp), stage, str(film)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 90
    try:
        while time.time() < deadline and proc.poll() is None:
            if journal.exists() and journal.read_text(errors="replace").count("\n") >= after_lines:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        code = proc.wait(timeout=30)
    assert code == -signal.SIGKILL, f"the stage ended before it was killed: {proc.stderr.read().decode()[-800:]}"
    return journal.read_text(errors="replace").count("\n")


def test_extract_killed_then_rerun(tmp_path, long_film):
    journaled = _run_and_kill(tmp_path, "extract", long_film)
    ctx = make_context(make_settings(tmp_path, extract_mode="interval", interval_s=0.1))
    store = DatasetStore.open(ctx.settings, "killed")  # replays the journal
    finished = {i.id: store.abspath(i.file).stat().st_mtime_ns for i in store.items() if i.status("extract") == "done"}
    assert len(finished) >= 15 and len(finished) >= journaled - 1
    result = extract_frames(ctx, store, long_film, "interval", 0.1)
    total = 2 * len(SCENES) * SCENE_FRAMES  # 0.1 s at 12 fps rounds to every frame
    assert result.counts["done"] == total and len(store.items()) == total  # none lost
    assert result.reused == len(finished) and result.redone == total - len(finished)  # none redone
    assert all(store.abspath(store.meta.items[i].file).stat().st_mtime_ns == m for i, m in finished.items())
    assert not store.journal_path.exists()
    again = extract_frames(ctx, DatasetStore.open(ctx.settings, "killed"), long_film, "interval", 0.1)
    assert again.redone == 0 and again.reused == total


def test_filter_killed_then_rerun(tmp_path, long_film):
    ctx = make_context(make_settings(tmp_path, extract_mode="interval", interval_s=0.1))
    store = DatasetStore.open(ctx.settings, "killed")
    extract_frames(ctx, store, long_film, "interval", 0.1)
    for item in store.items():  # extraction measured every frame; make the filter stage do it (as after
        item.stages.pop("filter")  # a MEASURE_VERSION bump), so there is work to interrupt
    store.save()
    _run_and_kill(tmp_path, "filter", long_film)
    store = DatasetStore.open(ctx.settings, "killed")
    measured = [i.id for i in store.items() if i.status("filter") == "pending"]
    assert 15 <= len(measured) < len(store.items())
    result = run_filter(ctx, store)
    assert result.reused == len(measured) and result.redone == len(store.items()) - len(measured)
    assert sum(result.counts.values()) == len(store.items())
    assert all(i.status("filter") in ("kept", "dropped") for i in store.items())
