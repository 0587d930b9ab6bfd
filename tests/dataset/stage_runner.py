"""A real process that runs one dataset stage (the kill -9 tests start and kill it)."""
from __future__ import annotations

import sys
from pathlib import Path

from tests.dataset.conftest import make_settings
from tools.core.context import make_context
from tools.dataset.metadata import DatasetStore


def main(tmp: str, stage: str, film: str) -> None:
    settings = make_settings(Path(tmp), extract_mode="interval", interval_s=0.1)
    ctx = make_context(settings)
    store = DatasetStore.open(settings, "killed")
    if stage == "extract":
        from tools.dataset.extract import extract_frames

        extract_frames(ctx, store, Path(film), "interval", 0.1)
    else:
        from tools.dataset.filter import run_filter

        run_filter(ctx, store)


if __name__ == "__main__":
    main(*sys.argv[1:4])
