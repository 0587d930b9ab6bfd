"""docs/configuration.md is generated from the Settings model, so it cannot drift from the code."""
from __future__ import annotations

from pydantic import BaseModel

from tools.core.settings import Settings
from tools.core.settings.migrations import MIGRATIONS
from tools.core.settings.model import CONFIG_VERSION

INTRO = """# Configuration

Settings are one pydantic-settings model (`tools/core/settings/`) made of per-family sections. They are
composed, lowest to highest precedence, from:

1. `configs/default.yaml` (shipped; every section documented there),
2. a user file: `--config FILE`, `Agent(config=FILE)` or the `ANIMSTUDIO_CONFIG` env var,
3. environment variables `ANIMSTUDIO_<SECTION>__<KEY>` (e.g. `ANIMSTUDIO_LLM__BACKEND=openai`,
   `ANIMSTUDIO_AGENT__MAX_ITERATIONS=5`),
4. explicit overrides: CLI flags (`--llm`, `--strategy`, `--set agent.max_iterations=2`) or
   `Agent(overrides={...})`.

Unknown keys are errors that name the key, the file and the closest known key
(`unknown setting 'agent.max_iteratons' (did you mean 'agent.max_iterations'?)`). Every file carries
`config_version: {version}`. A file of an older version is upgraded step by step before it is read,
each step logging its note (the list below; the same happens to a saved run's `settings.json` on
resume); a file of a newer version is refused.
Relative paths resolve against `ANIMSTUDIO_HOME` (default: the project folder).
`animstudio config show` prints the effective settings.

Every model is a local path or an endpoint; nothing is downloaded at run time. A missing model
gives an error naming the setting to fill (`animstudio doctor` lists them all).

This page is generated from the code (`animstudio config doc > docs/configuration.md`); a test
keeps it in sync.
"""


def _rows(model: type[BaseModel], prefix: str) -> list[tuple[str, str, str]]:
    rows = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows += _rows(ann, prefix + name + ".")
            continue
        default = field.default if field.default_factory is None else field.default_factory()
        type_name = str(ann).replace("typing.", "").replace("pathlib.", "").replace("<class '", "").replace("'>", "")
        if isinstance(default, list):
            default = [str(x) for x in default]
        shown = str(default) if not isinstance(default, str) else repr(default)
        rows.append((prefix + name, type_name.replace("|", "\\|"), shown[:70].replace("|", "\\|")))
    return rows


def _versions() -> list[str]:
    lines = ["\n## Versions\n"]
    lines += [f"- {m.from_version} → {m.from_version + 1}: {m.note}" for m in MIGRATIONS]
    if not MIGRATIONS:
        lines.append(f"- {CONFIG_VERSION}: the first version; no setting has been renamed or removed since.")
    lines.append("\nRenaming or removing a setting bumps `CONFIG_VERSION` and adds a migration with its note "
                 "(`tools/core/settings/migrations.py`).")
    return lines


def render() -> str:
    parts = [INTRO.replace("{version}", str(CONFIG_VERSION)), *_versions()]
    for name, field in Settings.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            parts.append(f"\n## `{name}`\n\n| key | type | default |\n| --- | --- | --- |")
            parts += [f"| `{k}` | `{t}` | `{d}` |" for k, t, d in _rows(ann, name + ".")]
    return "\n".join(parts) + "\n"
