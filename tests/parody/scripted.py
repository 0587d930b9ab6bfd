"""A scripted chat model for parody runs (used in-process and by the kill/resume subprocess)."""
from __future__ import annotations

GOOD_DRAFT = {"title": "Pip's Big Splash", "lines": [
    {"character": "Narrator", "text": "This is Pip. Pip believes he can fly."},
    {"character": "Pip", "text": "Watch this, everyone! Triple backflip!"},
    {"character": "Narrator", "text": "Pip cannot fly."},
    {"character": "Gull", "text": "Amateur. Zero out of ten."}],
    "effects": [{"kind": "freeze_frame", "at": 4.0, "caption": "Pip, moments before"}]}

# Sparse on purpose: pauses between lines leave room to measure the original sound un-ducked. About this
# scene (Pip, the ocean), as the comedy check wants half the lines to name something on screen.
E2E_DRAFT = {"title": "Pip's Big Splash", "lines": [
    {"character": "Narrator", "text": "This is Pip. Pip believes he can fly."},
    {"character": "Pip", "text": "Watch this, ocean!"},
    {"character": "Gull", "text": "Zero out of ten."}],
    "effects": [{"kind": "freeze_frame", "at": 5.0, "caption": "Pip, moments before"}]}

NONSENSE_DRAFT = {"title": "the the the", "lines": [
    {"character": "Pip", "text": "sea sea sea sea sea sea sea sea"},
    {"character": "Pip", "text": "a" * 89},
    {"character": "x", "text": "!!!! ???? 1234 5678"}], "effects": []}


def parody_handler(duration: float = 12.0, draft: dict | None = None, verdicts: list[dict] | None = None):
    """Answers by requested schema: intent, workflow slots, script drafts, the judge's checklists (in order, last
    repeats). A checklist answering no to a line's joke question makes the judge's finding ("… is not a joke")
    reach the next draft's prompt; the scripted writer then changes its last line, as a model would."""
    verdicts = list(verdicts or [])

    notes = ["is not a joke"] if any(a.get("technique") == "none" for v in verdicts if v for a in v.get("lines", [])) else []

    def handler(call):
        title = call.schema_title
        if title == "Intent":
            return {"goal": "parody of the ocean scene", "task": "parody"}
        if title and title.endswith("_params"):
            return {"scene": "the ocean scene", "tone": "deadpan", "target_duration_s": duration}
        if title == "ScriptDraft":
            base = draft or E2E_DRAFT
            if any(note in call.last_text for note in notes):  # a rewrite that takes the judge's note, as a model would
                return {**base, "lines": base["lines"][:-1] + [{"character": "Gull", "text": "Fine. Eleven out of ten."}]}
            return base
        if title == "ScriptChecklist":
            return verdicts.pop(0) if len(verdicts) > 1 else (verdicts[0] if verdicts else None)
        if call.mode in ("chat", "stream"):
            return "1. find the scene 2. write the script 3. voice it 4. edit 5. score"
        return None

    return handler
