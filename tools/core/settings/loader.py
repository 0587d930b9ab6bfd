"""Load Settings from YAML layers, env vars and overrides, with clear errors on typos."""
from __future__ import annotations

import difflib
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsError

from tools.core.settings.errors import ConfigError
from tools.core.settings.migrations import upgrade
from tools.core.settings.model import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "default.yaml"

_yaml_layers: ContextVar[dict[str, Any]] = ContextVar("_yaml_layers", default={})


def home() -> Path:
    """Relative paths in settings resolve against this folder (ANIMSTUDIO_HOME or the project root)."""
    return Path(os.environ.get("ANIMSTUDIO_HOME", PROJECT_ROOT)).expanduser().resolve()


def resolve_path(path: Path | str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else home() / p


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"Config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"Config file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {path} must hold a mapping at the top level")
    return upgrade(data, str(path))[0]


class _YamlLayers(PydanticBaseSettingsSource):
    def get_field_value(self, field, field_name):  # pragma: no cover - unused, required by the ABC
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return _yaml_layers.get()


class _LayeredSettings(Settings):
    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, _YamlLayers(settings_cls))


def _known_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        keys.append(prefix + name)
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.extend(_known_keys(ann, prefix + name + "."))
    return keys


def _explain(exc: ValidationError, sources: str) -> ConfigError:
    known = _known_keys(Settings)
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            hint = difflib.get_close_matches(key, known, n=1)
            lines.append(f"unknown setting '{key}'" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
        else:
            lines.append(f"'{key}': {err['msg']} (got {err.get('input')!r})")
    return ConfigError(f"Invalid configuration ({sources}):\n  - " + "\n  - ".join(lines))


def load_settings(config_file: Path | str | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Compose default.yaml ← config_file ← ANIMSTUDIO_* env ← overrides into one Settings."""
    layers = _read_yaml(DEFAULT_CONFIG) if DEFAULT_CONFIG.is_file() else {}
    sources = [str(DEFAULT_CONFIG)]
    if config_file is None and os.environ.get("ANIMSTUDIO_CONFIG"):
        config_file = os.environ["ANIMSTUDIO_CONFIG"]
    if config_file is not None:
        layers = _deep_merge(layers, _read_yaml(Path(config_file).expanduser()))
        sources.append(str(config_file))
    token = _yaml_layers.set(layers)
    try:
        settings = _LayeredSettings(**(overrides or {}))
    except ValidationError as exc:
        raise _explain(exc, ", ".join(sources + ["env", "overrides"])) from None
    except SettingsError as exc:  # an ANIMSTUDIO_<SECTION> variable that is not valid JSON
        raise ConfigError(f"Invalid configuration from the environment: {exc}; a section variable such as "
                          "ANIMSTUDIO_AGENT must hold a JSON object, e.g. '{\"max_iterations\": 2}', or use "
                          "ANIMSTUDIO_AGENT__MAX_ITERATIONS=2") from None
    finally:
        _yaml_layers.reset(token)
    return Settings.model_validate(settings.model_dump())


def settings_from_dict(data: dict[str, Any]) -> Settings:
    """Settings from a plain dict on top of the defaults, ignoring env (for tests and tools)."""
    try:
        return Settings.model_validate(_deep_merge(Settings().model_dump(), data))
    except ValidationError as exc:
        raise _explain(exc, "dict") from None


def dotted_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn CLI `--set a.b=c` pairs into a nested dict; values are parsed as YAML scalars."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"Override '{pair}' must look like section.key=value")
        key, raw = pair.split("=", 1)
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if not all(parts):
            raise ConfigError(f"Override '{pair}' has an empty key part", "write e.g. --set agent.max_iterations=2")
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or "not valid YAML"
            raise ConfigError(f"Override '{pair}': the value is not valid YAML ({problem}); "
                              "lists look like [a, b], mappings like {key: value}, and text with ':' or '#' "
                              "needs quotes") from None
        if not isinstance(node, dict):
            raise ConfigError(f"Override '{pair}' conflicts with another --set for '{'.'.join(parts[:-1])}'")
    return out
