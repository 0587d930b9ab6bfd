import pytest

from tools.core.settings import ConfigError, load_settings
from tools.core.settings.loader import dotted_overrides


def test_defaults_come_from_default_yaml():
    s = load_settings()
    assert s.config_version == 1
    assert s.llm.backend == "local"
    assert s.agent.strategy == "cot"


def test_precedence_file_env_overrides(tmp_path, monkeypatch):
    cfg = tmp_path / "my config.yaml"
    cfg.write_text("agent:\n  max_iterations: 5\n  strategy: tot\nllm:\n  backend: fake\n")
    s = load_settings(cfg)
    assert (s.agent.max_iterations, s.agent.strategy, s.llm.backend) == (5, "tot", "fake")
    monkeypatch.setenv("ANIMSTUDIO_AGENT__MAX_ITERATIONS", "7")
    assert load_settings(cfg).agent.max_iterations == 7  # env beats the file
    s = load_settings(cfg, {"agent": {"max_iterations": 2}})
    assert s.agent.max_iterations == 2  # explicit overrides beat env
    assert s.agent.strategy == "tot"  # untouched keys survive the merge


def test_unknown_key_is_a_clear_error_with_suggestion(tmp_path):
    cfg = tmp_path / "typo.yaml"
    cfg.write_text("agent:\n  max_iteratons: 4\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert "agent.max_iteratons" in str(err.value)
    assert "did you mean 'agent.max_iterations'" in str(err.value)
    assert str(cfg) in str(err.value)


def test_bad_values_and_versions_are_reported(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("agent:\n  strategy: guess\n")
    with pytest.raises(ConfigError, match="agent.strategy"):
        load_settings(bad)
    future = tmp_path / "future.yaml"
    future.write_text("config_version: 99\n")
    with pytest.raises(ConfigError, match="config_version 99"):
        load_settings(future)
    broken = tmp_path / "broken.yaml"
    broken.write_text("agent: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.yaml")


def test_dotted_overrides_parse_yaml_scalars():
    assert dotted_overrides(["agent.max_iterations=3", "web.enabled=false", "llm.openai.model=qwen"]) == {
        "agent": {"max_iterations": 3}, "web": {"enabled": False}, "llm": {"openai": {"model": "qwen"}}}
    with pytest.raises(ConfigError):
        dotted_overrides(["novalue"])


def test_configuration_doc_is_generated_from_the_model():
    from pathlib import Path

    from agent.cli.config_doc import render

    doc = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    assert doc.read_text() == render(), "regenerate: animstudio config doc > docs/configuration.md"


def test_default_yaml_only_uses_known_keys():
    # load_settings would raise on an unknown key; this pins that the shipped file stays valid
    s = load_settings()
    assert s.paths.media_roots


def test_an_older_config_version_is_upgraded_with_a_note(tmp_path, monkeypatch, caplog):
    from tools.core.settings import migrations

    step = migrations.Migration(1, "agent.iterations is now agent.max_iterations; web.cache was removed",
                                lambda data: (migrations.rename("agent.iterations", "agent.max_iterations")(data),
                                              migrations.remove("web.cache")(data)))
    monkeypatch.setattr(migrations, "CONFIG_VERSION", 2)
    monkeypatch.setattr(migrations, "MIGRATIONS", [step])
    old = tmp_path / "old.yaml"
    old.write_text("config_version: 1\nagent:\n  iterations: 5\nweb:\n  cache: yes\n  timeout_s: 3\n")
    with caplog.at_level("WARNING", logger="animstudio.settings"):
        settings = load_settings(old)
    assert settings.agent.max_iterations == 5 and settings.web.timeout_s == 3
    assert "config_version 1 → 2: agent.iterations is now agent.max_iterations" in caplog.text
    zero = tmp_path / "zero.yaml"
    zero.write_text("config_version: 0\n")
    with pytest.raises(ConfigError, match="no upgrade from 0"):
        load_settings(zero)


def test_a_saved_run_settings_file_goes_through_the_same_upgrade(tmp_path, monkeypatch):
    import json

    from agent.checkpoints import load_run_setup
    from tools.core.settings import migrations, settings_from_dict

    settings = settings_from_dict({"paths": {"runs_dir": str(tmp_path / "runs")}})
    saved = json.loads(settings.model_dump_json())
    saved["agent"]["iterations"] = saved["agent"].pop("max_iterations") + 1
    (tmp_path / "runs" / "r1").mkdir(parents=True)
    (tmp_path / "runs" / "r1" / "settings.json").write_text(json.dumps(saved))
    monkeypatch.setattr(migrations, "CONFIG_VERSION", 2)
    monkeypatch.setattr(migrations, "MIGRATIONS", [migrations.Migration(
        1, "agent.iterations is now agent.max_iterations", migrations.rename("agent.iterations", "agent.max_iterations"))])
    restored, inputs = load_run_setup(settings, "r1")
    assert restored.agent.max_iterations == settings.agent.max_iterations + 1 and inputs == []
