"""The review pause through the Agent API and the terminal: script edits, scene picks, rejects."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent import Agent
from agent.api import AgentInputError
from agent.nodes.review import ReviewError, check_decision
from tests.studio.conftest import studio_settings_dict
from tools.core.trace import read_trace

SCRIPT = "draft a short script about lighthouses for me to check"


def test_an_unsure_scene_search_asks_which_scene_and_uses_the_pick(studio_settings):
    agent = Agent(settings=studio_settings())
    paused = agent.run("note what happens in the scene on the stairs", review=True)
    assert paused.status == "awaiting_review" and paused.review["kind"] == "scene"
    assert [c["scene"] for c in paused.review["candidates"]] == [3, 7] and "close" in paused.review["why"]
    assert json.loads((Path(paused.run_dir) / "review.json").read_text())["kind"] == "scene"
    with pytest.raises(AgentInputError, match="waiting for a scene review"):
        agent.resume(paused.run_id)  # a paused run needs the person's answer
    with pytest.raises(AgentInputError, match="candidate scenes"):
        agent.resume(paused.run_id, review={"action": "edit", "scene": 5})
    done = agent.resume(paused.run_id, review={"action": "edit", "scene": 7, "note": "the stairs are funnier"})
    assert done.status == "passed" and done.final_answer.startswith("Scene: the keeper climbs the spiral stairs")
    assert not (Path(done.run_dir) / "review.json").exists()
    decision = next(e for e in read_trace(done.trace_path) if e["kind"] == "review.decision")
    assert decision["action"] == "edit" and decision["note"] == "the stairs are funnier"


def test_a_sure_scene_search_does_not_stop_and_review_off_never_stops(studio_settings):
    agent = Agent(settings=studio_settings())
    sure = agent.run("note what clearly happens in the scene at the rocks", review=True)
    assert sure.status == "passed" and "waves against the lighthouse rocks" in sure.final_answer
    unreviewed = agent.run(SCRIPT)  # agent.review is off by default
    assert unreviewed.status == "passed" and unreviewed.review is None


def test_decisions_are_checked_against_what_is_shown():
    script = {"kind": "script", "title": "T", "footage_duration": 6.0, "characters": ["Pip"], "effects": [],
              "lines": [{"character": "Pip", "text": "Hello there.", "start": 0.5, "end": 1.7}]}
    assert check_decision(script, {"action": "approve"}).action == "approve"
    with pytest.raises(ReviewError, match="action"):
        check_decision(script, {"action": "later"})
    with pytest.raises(ReviewError, match="needs its lines"):
        check_decision(script, {"action": "edit"})
    with pytest.raises(ReviewError, match="6.0s"):
        check_decision(script, {"action": "edit", "lines": [{"character": "Pip", "text": "word " * 17}] * 3})
    with pytest.raises(ReviewError, match="no lines"):
        check_decision(script, {"action": "edit", "lines": [{"character": "Pip", "text": "  "}]})
    scene = {"kind": "scene", "candidates": [{"scene": 1}, {"scene": 4}]}
    assert check_decision(scene, {"action": "edit", "scene": 4}).scene == 4
    with pytest.raises(ReviewError, match="not script lines"):
        check_decision(scene, {"action": "edit", "scene": 4, "lines": [{"character": "Pip", "text": "Hi."}]})


@pytest.fixture
def cli_config(tmp_path):
    import yaml

    cfg = tmp_path / "studio config.yaml"
    cfg.write_text(yaml.safe_dump(studio_settings_dict(tmp_path)))
    return cfg


def test_run_with_review_in_the_terminal_edits_line_by_line(cli_config):
    from agent.cli.main import app

    answers = "edit\nThe count\n\n-\nKeeper: We ran out of waves.\n\n"  # keep line 1, drop line 2, add one
    out = CliRunner().invoke(app, ["run", SCRIPT, "--review", "--config", str(cli_config)], input=answers)
    assert out.exit_code == 0, out.output
    assert "Forty one. Forty two. I lost count." in out.output  # the script was shown before the question
    notes = list((cli_config.parent / "runs").glob("*/note.txt"))
    assert [n.read_text() for n in notes] == ["Narrator: The lighthouse keeper counts the waves.\n"
                                              "Keeper: We ran out of waves."]


def test_a_paused_json_run_is_answered_later_with_animstudio_review(cli_config):
    from agent.cli.main import app

    runner = CliRunner()
    paused = runner.invoke(app, ["run", SCRIPT, "--review", "--json", "--config", str(cli_config)])
    summary = json.loads(paused.stdout)
    assert summary["status"] == "awaiting_review" and summary["review"]["kind"] == "script"
    both = runner.invoke(app, ["review", summary["run_id"], "--approve", "--reject", "--config", str(cli_config)])
    assert both.exit_code == 2
    done = runner.invoke(app, ["review", summary["run_id"], "--approve", "--json", "--config", str(cli_config)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["status"] == "passed"
    again = runner.invoke(app, ["review", summary["run_id"], "--approve", "--config", str(cli_config)])
    assert again.exit_code == 2 and "not waiting for a review" in again.output


def test_chat_review_on_asks_before_going_on(studio_settings, monkeypatch):
    import io

    from rich.console import Console

    from agent.cli.chat import ChatSession

    out = io.StringIO()
    session = ChatSession(studio_settings(), console=Console(file=out, width=160))
    session.handle("/review on")
    monkeypatch.setattr("sys.stdin", io.StringIO("reject\ntoo long\n"))
    session.handle(SCRIPT)
    assert "Review on." in out.getvalue() and "Forty one" in out.getvalue()
    assert session.last.status == "rejected" and "too long" in session.last.final_answer
