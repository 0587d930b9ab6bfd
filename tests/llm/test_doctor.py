"""describe_llm: what `animstudio doctor` reports for each backend."""
from __future__ import annotations

import socket

from agent.llm import describe_llm
from tests.llm.conftest import openai_settings
from tools.core.settings import settings_from_dict


def test_local_packaged_model_is_found():
    info = describe_llm(settings_from_dict({"llm": {"backend": "local"}}))
    assert info["backend"] == "local" and info["packaged"] is True
    assert info["found"] is True and info["model"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert info["runtime"].startswith("llama-cpp-python")


def test_local_missing_path_names_the_setting(tmp_path):
    info = describe_llm(settings_from_dict({"llm": {"local": {"model_path": str(tmp_path / "x.gguf")}}}))
    assert info["found"] is False and info["setting"] == "llm.local.model_path" and "x.gguf" in info["detail"]


def test_openai_endpoint_found_and_models_listed(server):
    server.models = ["test-model", "other"]
    info = describe_llm(openai_settings(server.base_url))
    assert info["found"] is True and info["served"] == ["test-model", "other"] and info["endpoint"] == server.base_url


def test_openai_wrong_model_names_the_setting(server):
    info = describe_llm(openai_settings(server.base_url, model="gpt-oss-120b"))
    assert info["found"] is False and info["setting"] == "llm.openai.model"


def test_openai_down_names_base_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    info = describe_llm(openai_settings(f"http://127.0.0.1:{port}/v1"))
    assert info["found"] is False and info["setting"] == "llm.openai.base_url"


def test_fake_script_missing(tmp_path):
    info = describe_llm(settings_from_dict({"llm": {"backend": "fake", "fake": {"script": str(tmp_path / "s.yaml")}}}))
    assert info["found"] is False and info["setting"] == "llm.fake.script"
