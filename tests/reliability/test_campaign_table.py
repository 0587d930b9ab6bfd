"""The campaign table in docs/reliability.md, cell by cell: each damaged file through probe,
detect_scenes, find_scene, extract_clip, the dataset pipeline and a parody run with the scripted
model ends in the outcome the table states — a clear error or a correct result, within the child
memory bound."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.reliability.corpus import CORPUS

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
COLUMNS = ["probe", "detect_scenes", "find_scene", "extract_clip", "dataset", "parody"]
LONG = os.environ.get("ANIMSTUDIO_FUZZ") == "long"


def campaign_table() -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| input | probe |"))
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(COLUMNS, cells[1:]))
    return rows


TABLE = campaign_table()


def expect(cell: str, ok: bool, message: str) -> None:
    phrase = re.search(r'"([^"]+)"', cell)
    if cell.startswith(("ok", "passed", "failed")):
        assert ok, f"expected {cell!r}, got the error {message!r}"
    else:
        assert not ok, f"expected {cell!r}, got a result"
    if phrase:
        assert phrase.group(1) in message, f"{phrase.group(1)!r} not in {message!r}"


def test_the_table_covers_the_whole_corpus():
    assert set(TABLE) == set(CORPUS) and all(len(row) == len(COLUMNS) for row in TABLE.values())


@pytest.fixture(scope="module")
def outcomes(corpus, tmp_path_factory):
    """Every tool column for every input, run once (a context per input, as a run would)."""
    from tests.reliability.conftest import bounded_settings_dict
    from tools.core.context import make_context
    from tools.core.registry import invoke
    from tools.core.settings import settings_from_dict
    from tools.core.trace import Trace
    from tools.core.types import ToolError
    from tools.core.workspace import Workspace
    from tools.dataset.pipeline import run_pipeline
    from tools.media.probe import media_info

    root = tmp_path_factory.mktemp("campaign")
    settings = settings_from_dict(bounded_settings_dict(root))
    results: dict[str, dict[str, tuple[bool, str]]] = {}
    for n, (name, film) in enumerate(sorted(corpus.items())):
        ws = Workspace.create(root / "runs", None, [film.parent], new=True)
        ctx = make_context(settings, ws, trace=Trace(ws.root / "trace.jsonl"))
        row: dict[str, tuple[bool, str]] = {}
        try:
            row["probe"] = (True, media_info(film, limits=settings.limits).summary())
        except ToolError as exc:
            row["probe"] = (False, exc.message)
        for tool, args in (("detect_scenes", {}), ("find_scene", {"query": "a colourful test card"}),
                           ("extract_clip", {"start": 0.0, "end": 1.0})):
            outcome = invoke(tool, {"film": str(film), **args}, ctx)
            assert outcome.error_kind in (None, "tool"), outcome.error  # never an unexpected exception
            row[tool] = (outcome.ok, outcome.summary if outcome.ok else outcome.error)
        try:
            run_pipeline(ctx, f"set{n}", film=film, until="filter")
            row["dataset"] = (True, "")
        except ToolError as exc:
            row["dataset"] = (False, exc.message)
        results[name] = row
    return results


@pytest.mark.parametrize("name", sorted(CORPUS))
@pytest.mark.parametrize("column", COLUMNS[:-1])
def test_tool_outcomes_match_the_table(outcomes, name, column):
    ok, message = outcomes[name][column]
    expect(TABLE[name][column], ok, message)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_parody_runs_match_the_table(name, corpus, tmp_path):
    from agent import Agent
    from agent.api import AgentInputError
    from agent.llm import FakeChatModel
    from tests.parody.scripted import parody_handler
    from tests.reliability.conftest import bounded_settings_dict
    from tools.core.settings import settings_from_dict

    cell = TABLE[name]["parody"]
    if "†" in cell and not LONG:
        pytest.skip("a full run for this row: ANIMSTUDIO_FUZZ=long runs it (see docs/reliability.md)")
    settings = settings_from_dict(bounded_settings_dict(tmp_path, quality={"min_height": 90},
                                                        agent={"max_iterations": 1}))
    model = FakeChatModel(handler=parody_handler(duration=8.0))
    try:
        result = Agent(settings=settings, llm=model).run("turn this clip into a silly spoof", film=corpus[name])
    except AgentInputError as exc:
        expect(cell, False, str(exc))
        return
    expected = cell.split()[0]
    assert result.status == expected, (result.status, result.final_answer)
    if expected == "passed":
        video = next(p for p in result.artifact_paths("video") if p.suffix == ".mp4")
        assert video.is_file() and video.stat().st_size > 0
