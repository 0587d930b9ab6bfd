"""The settings error (its own module so the loader and the migrations can both raise it)."""
from __future__ import annotations


class ConfigError(ValueError):
    """A config file or override is invalid; the message names the key and the file."""
