"""Typed slots: a value the plan uses, and where it came from."""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, Field

# request: the user's words; model: the LLM's filling; past_run: an earlier run's style;
# default: the workflow's declared default; run: what this run was given (the film path);
# derived: made from the other values by the parameter's `derive` rule; answer: the person's answer to a question.
SlotSource = Literal["request", "model", "past_run", "default", "run", "derived", "answer"]


class SlotValue(BaseModel):
    value: Any
    source: SlotSource
    evidence: str = ""  # the words of the request, the past run's id, or why the value was chosen
    note: str = ""  # e.g. a model value that was refused, and why


class RequestSlots(BaseModel):
    """What the request itself states, found without any model (every value has source "request")."""

    request: str
    language: Literal["en", "it"] = "en"
    found: dict[str, SlotValue] = Field(default_factory=dict)

    def value(self, kind: str, default: Any = None) -> Any:
        slot = self.found.get(kind)
        return default if slot is None else slot.value

    def stated(self, kind: str) -> SlotValue | None:
        """The request's value for `kind`; a single `character` is the first of the named `characters`."""
        if kind in self.found:
            return self.found[kind]
        names = self.found.get("characters")
        if kind == "character" and names is not None and names.value:
            return names.model_copy(update={"value": names.value[0]})
        return None

    def add(self, kind: str, value: Any, evidence: str) -> None:
        if value in (None, "", []) or kind in self.found:
            return
        self.found[kind] = SlotValue(value=value, source="request", evidence=evidence.strip())


_FILLER = {"the", "a", "an", "of", "and", "with", "where", "when", "that", "this", "scene", "bit", "part", "moment",
           "shot", "one", "in", "on", "at", "to", "is", "his", "her", "their", "its", "la", "il", "lo", "di", "del",
           "della", "dell", "dove", "con", "che", "scena", "parte", "someone", "says", "said", "sequence", "clip",
           "whole", "entire", "same", "questa", "quella", "una", "sulla", "nella"}


def content_words(text: Any) -> set[str]:
    """Lower-case words of 3+ letters that carry meaning (filler and scene nouns dropped, plural 's' cut)."""
    words = re.findall(r"[^\W\d_]{3,}", str(text or "").lower())
    return {w.rstrip("s") for w in words if w not in _FILLER}
