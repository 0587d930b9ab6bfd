"""Who routes: the rules for the embedded model (no model call at all to understand or route a
one-step job), a capable model freely (its choice wins, the rules' route is only a hint)."""
from __future__ import annotations

import json

from agent import Agent
from agent.llm import FakeChatModel
from tests.agent.scripted import handler_for
from tests.llm.chat_server import ChatServer, completion
from tests.synthetic_media import SceneSpec, make_video
from tools.core.settings import settings_from_dict
from tools.core.trace import read_trace


def with_sections(base: dict, **sections) -> dict:
    data = json.loads(json.dumps(base))
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return data


def test_the_embedded_model_is_not_asked_to_understand_route_or_reason(planning_settings_dict):
    llm = FakeChatModel(handler=handler_for(), backend="local")  # answers like the embedded model's backend
    local = settings_from_dict(with_sections(planning_settings_dict, llm={"backend": "local"}))
    preview = Agent(settings=local, llm=llm).plan("read 'the tide is turning' in the narrator's voice")
    assert preview["plan"]["workflow"] == "voice_line"
    assert preview["plan"]["steps"][0]["args"]["text"] == "the tide is turning"
    assert [c.schema_title for c in llm.calls if c.schema_title in ("Intent", "JobChoice")] == []
    assert not [c for c in llm.calls if c.mode == "chat"]  # no CoT pass for a 135M model
    kinds = [e["kind"] for e in read_trace(preview["run_dir"] + "/trace.jsonl")]
    assert "understand.rules" in kinds and "route.rules" in kinds


def test_a_capable_model_routes_freely_and_its_choice_is_planned(planning_settings_dict):
    def handler(call):
        if call.schema_title == "JobChoice":
            assert "- subtitle_scene (needs a film):" in call.last_text  # the job catalogue
            assert "suggests: cut_scene" in call.last_text  # the rules' route, as a hint
            return {"job": "describe_library", "reason": "the user wants to see their files first"}
        return handler_for()(call)

    llm = FakeChatModel(handler=handler)
    settings = settings_from_dict(with_sections(planning_settings_dict, agent={"routing": "model"}))
    preview = Agent(settings=settings, llm=llm).plan("cut the lighthouse scene out as a clip")
    assert preview["plan"]["workflow"] == "describe_library"
    route = [e for e in read_trace(preview["run_dir"] + "/trace.jsonl") if e["kind"] == "route"][-1]
    assert route["method"] == "model" and "the rules said cut_scene" in route["why"]


def test_an_unusable_model_answer_keeps_the_rules_route(planning_settings_dict):
    def handler(call):
        return "no idea, sorry" if call.schema_title == "JobChoice" else handler_for()(call)

    settings = settings_from_dict(with_sections(planning_settings_dict, agent={"routing": "model"}))
    preview = Agent(settings=settings, llm=FakeChatModel(handler=handler)).plan("taglia il film da 0:05 a 0:09")
    assert preview["intent"]["workflow"] == "cut_clip"
    assert preview["question"]["kind"] == "film" and "--film" in preview["question"]["how"]  # it asks for one
    kinds = [e["kind"] for e in read_trace(preview["run_dir"] + "/trace.jsonl")]
    assert "route.model_failed" in kinds


def test_an_openai_compatible_server_routes_over_http(planning_settings_dict, tmp_path):
    film = make_video(tmp_path / "harbour.mp4", [SceneSpec("night"), SceneSpec("ocean")])
    intent = {"goal": "subtitle the harbour moment", "task": "video_edit"}
    choice = {"job": "subtitle_scene", "reason": "words on screen are subtitles"}
    with ChatServer() as server:
        server.actions = [{"json": completion(json.dumps(intent))}, {"json": completion(json.dumps(choice))},
                          {"json": completion("1. find the scene 2. subtitle it")}, {"json": completion("{}")}]
        settings = settings_from_dict(with_sections(planning_settings_dict, llm={
            "backend": "openai", "openai": {"base_url": server.base_url, "model": "test-model", "max_retries": 0}}))
        preview = Agent(settings=settings).plan("the harbour moment, with the words on screen please", film=film)
        bodies = [p["body"] for p in server.posts]
    assert preview["plan"]["workflow"] == "subtitle_scene"
    assert [s["tool"] for s in preview["plan"]["steps"]] == ["find_scene", "transcribe", "render_subtitled_scene"]
    schema_names = [b.get("response_format", {}).get("json_schema", {}).get("name") for b in bodies]
    assert "JobChoice" in schema_names
    route_prompt = bodies[schema_names.index("JobChoice")]["messages"][-1]["content"]
    assert "answer_web" in route_prompt and "Request: the harbour moment" in route_prompt


def _corrected_cast(planning_settings_dict, backend: str) -> dict:
    def handler(call):
        if call.schema_title == "JobChoice":
            return {"job": "parody", "reason": "a comic redub"}
        if call.schema_title == "parody_params":
            return {"characters": ["Luca"]}  # "Harbourmaster Ball" is the scene's name, not a character
        return handler_for()(call)

    from pathlib import Path

    film = Path(planning_settings_dict["paths"]["runs_dir"]).parent / "corrected.mp4"
    if not film.exists():
        make_video(film, [SceneSpec("solid", "blue", 1.0)], size=(96, 64))
    settings = settings_from_dict(with_sections(planning_settings_dict, llm={"backend": backend}))
    preview = Agent(settings=settings, llm=FakeChatModel(handler=handler)).plan(
        "parody the Harbourmaster Ball scene with Luca", film=film)
    return preview["plan"]["slots"]["characters"]


def test_a_capable_model_corrects_the_rules_reading_and_other_models_do_not(planning_settings_dict):
    """With llm.backend openai the model read the request too: a checked value of its own replaces the
    rules' (capitalised words taken for characters); otherwise the rules' reading stands."""
    openai = _corrected_cast(planning_settings_dict, "openai")
    assert openai["value"] == ["Luca"] and openai["source"] == "model" and "Harbourmaster Ball" in openai["note"]
    scripted = _corrected_cast(planning_settings_dict, "fake")
    assert scripted["source"] == "request" and "Harbourmaster Ball" in scripted["value"]
