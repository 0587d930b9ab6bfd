"""Settings: one pydantic-settings model composed of per-family sections.

Precedence (lowest → highest): configs/default.yaml ← user config file ← ANIMSTUDIO_* env vars
← explicit overrides (CLI flags, `Agent(overrides=...)`).
"""
from tools.core.settings.loader import ConfigError, load_settings, settings_from_dict
from tools.core.settings.model import Settings

__all__ = ["ConfigError", "Settings", "load_settings", "settings_from_dict"]
