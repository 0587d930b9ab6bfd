"""Every run is scored: each check kind a workflow declares is evaluated (or refused at load), and ReAct
answers are scored on what they say — not 1.0 because an answer exists."""
from __future__ import annotations

import pytest

from agent import Agent
from agent.llm import FakeChatModel
from agent.nodes.checks import CHECKS
from tests.agent.scripted import handler_for
from workflows.loader import CHECK_KINDS, WorkflowError, load_workflow

ARTIFACT_WF = """
name: test_receipt
description: file a receipt note for the archive and check the file kind it made
examples: [file a receipt note for the archive]
steps:
  - id: write
    tool: g_write
    args: {text: "receipt 42", name: receipt}
checks:
  - {kind: steps_succeeded}
  - {kind: artifact_exists, step: write, artifact_kind: KIND}
"""


def test_every_declarable_check_kind_has_an_evaluator():
    assert set(CHECKS) == set(CHECK_KINDS) == {"steps_succeeded", "artifact_exists", "scorer"}


@pytest.mark.parametrize("checks, error", [
    ("[{kind: magic_score}]", "kind"),
    ("[{kind: artifact_exists, step: write}]", "artifact_kind"),
    ("[{kind: scorer}]", "needs `step`"),
])
def test_a_check_that_cannot_be_evaluated_is_refused_at_load(tmp_path, checks, error):
    path = tmp_path / "bad.yaml"
    path.write_text(ARTIFACT_WF.split("checks:")[0] + f"checks: {checks}\n")
    with pytest.raises(WorkflowError, match=error):
        load_workflow(path)


def test_an_unknown_blame_tag_is_refused_at_load(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(ARTIFACT_WF.replace("KIND", "text") + "on_blame:\n  voicez: [write]\n")
    with pytest.raises(WorkflowError, match="voicez"):
        load_workflow(path)


@pytest.mark.parametrize("kind, passed", [("text", True), ("lora", False)])
def test_artifact_exists_is_evaluated(agent_settings, counters, tmp_path, kind, passed):
    settings = agent_settings(agent={"max_iterations": 1})
    (tmp_path / "wf" / "receipt.yaml").write_text(ARTIFACT_WF.replace("KIND", kind))
    result = Agent(settings=settings, llm=FakeChatModel(handler=handler_for())).run(
        "file a receipt note for the archive")
    assert result.plan["workflow"] == "test_receipt"
    report = next(r for r in result.quality[-1]["reports"] if r["scorer"] == f"artifact:{kind}")
    assert report["passed"] is passed and result.passed is passed
    if not passed:
        assert report["findings"][0]["code"] == "artifact_missing" and report["blame"] == ["write"]


def _react(agent_settings, answer: str, **agent):
    steps = [{"thought": "write it", "action": "g_write", "args": {"text": "tides rise twice a day", "name": "tides"}},
             {"thought": "done", "action": "finish", "args": {}, "answer": answer}]
    settings = agent_settings(agent={"strategy": "react", "max_iterations": 1, **agent})
    return Agent(settings=settings, llm=FakeChatModel(handler=handler_for(react=steps))).run(
        "write a short note about the tides")


def test_a_react_answer_that_addresses_the_request_and_names_its_file_passes(agent_settings, counters):
    result = _react(agent_settings, "I wrote a short note about the tides in tides.txt.")
    answer = next(r for r in result.quality[-1]["reports"] if r["scorer"] == "answer")
    assert answer["passed"] and result.passed, answer["reasons"]
    assert answer["metrics"]["tool_calls"] == 1 and answer["metrics"]["tool_errors"] == 0


def test_a_react_answer_naming_a_file_it_did_not_make_fails(agent_settings, counters):
    result = _react(agent_settings, "The note about the tides is saved as tides_final_v2.md.")
    answer = next(r for r in result.quality[-1]["reports"] if r["scorer"] == "answer")
    assert not answer["passed"] and not result.passed
    assert [f["code"] for f in answer["findings"]][0] == "answer_file_missing"
    assert answer["findings"][0]["data"]["files"] == ["tides_final_v2.md"]


def test_an_off_topic_react_answer_is_retried_with_the_findings(agent_settings, counters):
    steps = [{"thought": "done", "action": "finish", "args": {}, "answer": "Bananas are rich in potassium."},
             {"thought": "fix", "action": "finish", "args": {}, "answer": "Tides rise and fall twice a day."}]
    llm = FakeChatModel(handler=handler_for(react=steps))
    result = Agent(settings=agent_settings(agent={"strategy": "react", "max_iterations": 2}), llm=llm).run(
        "write a short note about the tides")
    first = next(r for r in result.quality[0]["reports"] if r["scorer"] == "answer")
    assert not first["passed"] and first["findings"][0]["code"] == "answer_off_request"
    prompts = [c.last_text for c in llm.calls if c.schema_title == "ReactAction"]
    assert "does not address the request" in prompts[-1]  # the finding reached the next ReAct turn
    assert result.passed and result.final_answer.startswith("Tides rise")
