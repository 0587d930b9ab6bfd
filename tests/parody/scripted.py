"""A scripted chat model for parody runs (used in-process and by the kill/resume subprocess)."""
from __future__ import annotations

import re

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


CONTROL_OFF_TOPIC = ("Remember to renew the car insurance.", "The printer upstairs is jammed again.",
                     "Quarterly figures look stable this year.", "Please file the invoices by Monday.")


def judge_line(call, jokes: bool = True) -> dict:
    """The judge's answer for one line, as a model that reads it would give: its planted control lines answered
    right (so the judge's questions count), the script's own lines about the scene, jokes unless `jokes` is False."""
    line = re.search(r'The line \([^)]*\): "(.*)"\s*$', call.last_text, flags=re.DOTALL).group(1)
    if line in CONTROL_OFF_TOPIC:
        return {"topic": "office chores", "verdict": "something else", "technique": "plain statement"}
    if "greatest thing ever filmed" in line:
        return {"topic": line.split(":")[0], "verdict": "in this scene", "technique": "exaggeration"}
    if re.fullmatch(r"This is [^.]+\.", line):
        return {"topic": line[8:-1], "verdict": "in this scene", "technique": "plain statement"}
    return {"topic": " ".join(line.split()[:3]), "verdict": "in this scene",
            "technique": "deadpan" if jokes else "plain statement"}


def parody_handler(duration: float = 12.0, draft: dict | None = None, judge: str | None = None):
    """Answers by requested schema: intent, workflow slots, script drafts, the judge's line answers (`judge`: None =
    no judge answers, "good" = every line about the scene and a joke, "flat" = about the scene but no joke). A
    flat verdict's finding ("… is not a joke") reaches the next draft's prompt; the scripted writer then changes
    its last line, as a model would."""
    notes = ["is not a joke"] if judge == "flat" else []

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
        if title == "LineAnswer":
            return judge_line(call, jokes=judge != "flat") if judge else None
        if call.mode in ("chat", "stream"):
            return "1. find the scene 2. write the script 3. voice it 4. edit 5. score"
        return None

    return handler
