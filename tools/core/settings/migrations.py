"""Settings files of an older `config_version` are upgraded step by step, not refused (as OneTrainer does).

Each `Migration` turns the raw mapping of one version into the next and carries a note saying what
changed; applying one logs the note, so a user sees what their file now means. A file of a newer
version than this code reads is refused. The same upgrade runs on the settings a run saved
(`runs/<id>/settings.json`), so resuming an old run keeps working after a rename.

Renaming or removing a setting: bump `CONFIG_VERSION` (model.py), append a `Migration` from the
previous version here (the helpers below cover renames and removals) and say so in
docs/configuration.md. Since config_version 1 no setting has been renamed, so the list is empty.
"""
from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.core.settings.errors import ConfigError
from tools.core.settings.model import CONFIG_VERSION

log = logging.getLogger("animstudio.settings")


@dataclass(frozen=True)
class Migration:
    from_version: int  # upgrades a mapping of this version to from_version + 1
    note: str  # what changed, in the words a user needs
    apply: Callable[[dict[str, Any]], None]  # edits the mapping in place


MIGRATIONS: list[Migration] = []


def rename(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    """A migration step moving dotted key `old` to `new` (nothing to do when `old` is absent)."""

    def apply(data: dict[str, Any]) -> None:
        *head, last = old.split(".")
        node = _walk(data, head)
        if node is None or last not in node:
            return
        value = node.pop(last)
        *new_head, new_last = new.split(".")
        target = data
        for part in new_head:
            target = target.setdefault(part, {})
        target[new_last] = value

    return apply


def remove(key: str) -> Callable[[dict[str, Any]], None]:
    """A migration step dropping dotted key `key` (a setting that no longer has any effect)."""

    def apply(data: dict[str, Any]) -> None:
        *head, last = key.split(".")
        node = _walk(data, head)
        if node is not None:
            node.pop(last, None)

    return apply


def _walk(data: dict[str, Any], parts: list[str]) -> dict[str, Any] | None:
    node: Any = data
    for part in parts:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def upgrade(data: dict[str, Any], source: str, *, current: int | None = None,
            migrations: list[Migration] | None = None) -> tuple[dict[str, Any], list[str]]:
    """`data` brought to the current config_version, and the notes of the migrations applied.

    A mapping without `config_version` is taken as current (a partial user file).
    """
    current = CONFIG_VERSION if current is None else current
    steps = {m.from_version: m for m in (MIGRATIONS if migrations is None else migrations)}
    version = data.get("config_version", current)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConfigError(f"{source}: config_version must be a whole number (got {version!r})")
    if version > current:
        raise ConfigError(f"{source}: config_version {version} is newer than this version reads ({current}); "
                          "upgrade animstudio, or see docs/configuration.md for the changes between versions")
    notes: list[str] = []
    if version == current:
        return data, notes
    data = copy.deepcopy(data)
    while version < current:
        step = steps.get(version)
        if step is None:
            raise ConfigError(f"{source}: config_version {version} is not supported (this version reads "
                              f"{current} and has no upgrade from {version}); see docs/configuration.md")
        step.apply(data)
        version += 1
        data["config_version"] = version
        notes.append(f"{source}: config_version {version - 1} → {version}: {step.note}")
        log.warning("settings upgraded: %s", notes[-1])
    return data, notes
