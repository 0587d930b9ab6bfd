"""A partial run does the part of the job it can, and a job that cannot be planned ends as a failure that
says why — never as a prose answer in place of the files asked for."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent import Agent
from tests.planning.asking_world import asking_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("partial runs")
    data, film = asking_world(root, "little film.mp4")
    return {"root": root, "data": data, "film": film}


def test_a_dataset_for_an_unnamed_character_runs_without_references(world):
    from tools.core.settings import settings_from_dict

    agent = Agent(settings=settings_from_dict(world["data"]))
    paused = agent.run("put together LoRA training pictures of the girl in the red coat from this movie",
                       film=world["film"], job="movie_to_lora")
    assert paused.status == "needs_input" and paused.question["kind"] == "refs", paused.final_answer
    done = agent.resume(paused.run_id, answer={"option": "partial"})
    assert [s["id"] for s in done.plan["steps"]] == ["extract", "filter"]
    assert done.plan["params"]["name"] == "little_film_frames"  # named after the film: no character yet
    assert done.status in ("passed", "done") and all(r["ok"] for r in done.step_results.values()), done.final_answer
    # The answer says what ran and what did not, with what to give to go on.
    assert "extract:" in done.final_answer and "filter:" in done.final_answer, done.final_answer
    assert "Not done, for want of refs" in done.final_answer and "train" in done.final_answer
    assert "--input" in done.final_answer
    kept = Path(world["data"]["paths"]["datasets_dir"]) / "little_film_frames"
    assert kept.is_dir() and any(kept.rglob("*.png")) or any(kept.rglob("*.jpg"))


def test_a_job_that_cannot_be_planned_fails_and_says_why(world, tmp_path):
    from tools.core.settings import settings_from_dict

    # A job whose "without" part still needs the missing folder: the partial plan cannot be built.
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "stack_frames.yaml").write_text(yaml.safe_dump({
        "name": "stack_frames", "title": "a stack of frames", "description": "stack the frames of a folder",
        "parameters": {"folder": {"type": "path", "source": "input", "input_kind": "folder", "required": True,
                                  "description": "the folder of frames", "without": ["probe"]}},
        "steps": [{"id": "probe", "tool": "probe_media", "args": {"path": "${params.folder}"}}],
    }), encoding="utf-8")
    data = {**world["data"], "agent": {**world["data"].get("agent", {}), "workflow_dirs": [str(flows)]}}
    agent = Agent(settings=settings_from_dict(data))
    paused = agent.run("stack up my frames", job="stack_frames")
    assert paused.status == "needs_input"
    done = agent.resume(paused.run_id, answer={"option": "partial"})
    assert done.status == "failed" and not done.step_results
    assert "I could not plan “a stack of frames”" in done.final_answer and "still need" in done.final_answer
    assert done.final_answer.count("\n") < 4  # the reason, not a model's essay in its place
