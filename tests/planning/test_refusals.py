"""Honest refusals: a job whose model is not configured is planned to its tool, then the run stops
before it with one answer naming the setting to fill and what can be done now."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import Agent
from agent.llm import FakeChatModel
from tests.agent.scripted import handler_for
from tools.core.settings import settings_from_dict
from tools.core.trace import read_trace


def fake_model(calls: list | None = None) -> FakeChatModel:
    return FakeChatModel(handler=handler_for())


def sdxl_folder(root: Path) -> Path:
    """A folder the cheap readiness check accepts as a diffusers SDXL model (nothing is loaded)."""
    folder = root / "sdxl model"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_index.json").write_text("{}")
    return folder


def settings(base: dict, **sections) -> object:
    data = json.loads(json.dumps(base))
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return settings_from_dict(data)


def test_an_image_request_without_weights_is_planned_then_refused_naming_the_setting(planning_settings_dict):
    result = Agent(settings=settings(planning_settings_dict), llm=fake_model()).run(
        "draw Pip riding a bicycle along the pier at dawn")
    assert result.status == "refused"
    assert result.plan["workflow"] == "character_image"  # the right job, not a parody or a dataset
    assert [s["tool"] for s in result.plan["steps"]] == ["generate_character_image"]
    assert result.plan["steps"][0]["args"]["character"] == "Pip"
    assert result.step_results == {} and result.artifacts == []  # stopped before running anything
    answer = result.final_answer
    assert "image.sdxl_model_path" in answer and "ANIMSTUDIO_IMAGE__SDXL_MODEL_PATH" in answer
    assert "What you can do now" in answer and "make Pip say" in answer  # voicing works without SDXL
    refused = [e for e in read_trace(result.trace_path) if e["kind"] == "plan.refused"]
    assert refused and refused[0]["settings"] == ["image.sdxl_model_path"]
    nodes = [e["node"] for e in read_trace(result.trace_path) if e["kind"] == "node.end"]
    assert "execute" not in nodes and nodes[-1] == "finish"
    saved = json.loads((Path(result.run_dir) / "plan.json").read_text())
    assert saved["steps"][0]["tool"] == "generate_character_image"
    assert json.loads((Path(result.run_dir) / "result.json").read_text())["status"] == "refused"


def test_pose_guidance_names_the_controlnet_and_its_preprocessor(planning_settings_dict, world, tmp_path):
    configured = settings(planning_settings_dict, image={"sdxl_model_path": str(sdxl_folder(tmp_path))})
    preview = Agent(settings=configured, llm=fake_model()).plan(
        "make Giulia copy the pose of the dancer in this photo", inputs=[world["picture"]])
    step = preview["plan"]["steps"][0]
    assert step["tool"] == "generate_character_image" and step["args"]["control_type"] == "openpose"
    assert step["args"]["control_image"] == str(world["picture"])
    settings_named = {u["setting"] for u in preview["refusal"]["unmet"]}
    assert "image.controlnet_paths.openpose" in settings_named and "image.annotators_path" in settings_named
    assert "image.sdxl_model_path" not in settings_named  # that one is configured


def test_edge_guidance_with_everything_configured_is_not_refused(planning_settings_dict, world, tmp_path):
    canny = tmp_path / "canny"
    canny.mkdir()
    ready = settings(planning_settings_dict, image={"sdxl_model_path": str(sdxl_folder(tmp_path)),
                                                   "controlnet_paths": {"canny": str(canny)}})
    preview = Agent(settings=ready, llm=fake_model()).plan(
        "follow the edges of my sketch to paint a castle made of coral", inputs=[world["picture"]])
    assert preview["plan"]["workflow"] == "text_to_image" and preview["refusal"] is None
    assert preview["plan"]["steps"][0]["args"]["control_type"] == "canny"
    assert preview["order"] == ["generate"]


def test_lora_training_without_a_base_model_names_the_settings(planning_settings_dict):
    result = Agent(settings=settings(planning_settings_dict), llm=fake_model()).run(
        "train a LoRA for Pip on the dataset harbour_set for 300 steps")
    assert result.status == "refused" and result.plan["workflow"] == "train_lora"
    assert result.plan["steps"][0]["args"] == {"name": "harbour_set", "character": "Pip", "max_steps": 300}
    assert "image.sdxl_model_path" in result.final_answer and "dataset.base_model_path" in result.final_answer
    assert "drop the blurry frames" in result.final_answer  # filtering the dataset needs no SDXL


def test_subtitles_without_a_speech_model_name_video_asr_model_path(planning_settings_dict, tmp_path):
    film = tmp_path / "film.mp4"
    from tests.synthetic_media import FOREST, OCEAN, make_video

    make_video(film, [OCEAN, FOREST])
    empty = tmp_path / "no model"
    empty.mkdir()
    missing_asr = settings(planning_settings_dict, video={"asr_model_path": str(empty)})
    result = Agent(settings=missing_asr, llm=fake_model()).run("put subtitles on the forest scene", film=film)
    assert result.status == "refused" and result.plan["workflow"] == "subtitle_scene"
    assert "video.asr_model_path" in result.final_answer
    assert result.step_results == {}  # not even the scene search ran


@pytest.mark.parametrize("request_text", ["generate two posters of a paper submarine", "disegna un faro nella nebbia"])
def test_an_image_request_is_never_answered_with_another_job(planning_settings_dict, request_text):
    preview = Agent(settings=settings(planning_settings_dict), llm=fake_model()).plan(request_text)
    assert preview["plan"]["workflow"] == "text_to_image"
    assert preview["refusal"]["tool"] == "generate_image"


def test_the_command_line_exits_2_for_a_refused_run_and_prints_the_setting(planning_settings_dict, tmp_path):
    import yaml
    from typer.testing import CliRunner

    from agent.cli.main import app

    cfg = tmp_path / "config.yaml"
    script = Path(__file__).resolve().parents[1] / "agent" / "fake_script.yaml"
    llm = {"backend": "fake", "fake": {"script": str(script)}}
    cfg.write_text(yaml.safe_dump({**planning_settings_dict, "llm": llm}), encoding="utf-8")
    result = CliRunner().invoke(app, ["run", "paint a castle floating in the clouds at dawn", "--json"],
                                env={"ANIMSTUDIO_CONFIG": str(cfg), "COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    printed = json.loads(result.stdout)
    assert printed["status"] == "refused" and "image.sdxl_model_path" in printed["final_answer"]
