"""A person's edit of a parody script (the review pause): new title and lines, re-timed to the footage.

The person's words are kept as typed (only control characters and markup are cleaned); lines that
would not fit the footage are an error to fix, not something dropped silently.
"""
from __future__ import annotations

from typing import Any

from tools.core.types import ToolError
from tools.parody.models import ParodyScript, ScriptLine
from tools.parody.script_writer import _script_text
from tools.parody.timing import MAX_LINE_CHARS, MAX_LINES, clean_text, fit_lines, line_seconds


def edit_script(result: dict[str, Any], title: str | None, lines: list[tuple[str, str]]) -> dict[str, Any]:
    """Return `write_parody_script`'s result with the edited script (same footage, effects kept)."""
    script = ParodyScript.model_validate(result["script"])
    footage = float(result["footage_duration"])
    cleaned = [(clean_text(who)[:40] or "Narrator", clean_text(text)) for who, text in lines]
    cleaned = [(who, text) for who, text in cleaned if text]
    if not cleaned:
        raise ToolError("the edited script has no lines", "keep at least one line, or reject the script")
    if len(cleaned) > MAX_LINES:
        raise ToolError(f"the edited script has {len(cleaned)} lines", f"keep at most {MAX_LINES}")
    too_long = [n for n, (_, text) in enumerate(cleaned, 1) if len(text) > MAX_LINE_CHARS]
    if too_long:
        raise ToolError(f"line(s) {too_long} are longer than {MAX_LINE_CHARS} characters", "split or shorten them")
    timed = fit_lines([ScriptLine(character=who, text=text) for who, text in cleaned], footage)
    if len(timed) < len(cleaned):
        need = sum(line_seconds(text) for _, text in cleaned)
        raise ToolError(f"the edited lines need about {need:.1f}s of speech but the scene footage is {footage:.1f}s",
                        "shorten or remove lines")
    edited = ParodyScript(title=clean_text(title or "")[:60] or script.title, lines=timed, effects=script.effects)
    characters = list(dict.fromkeys([*result.get("characters", []), *(ln.character for ln in timed)]))
    return {**result, "script": edited.model_dump(), "text": _script_text(edited), "path": "edited",
            "why": "edited by a person at the review", "characters": characters}
