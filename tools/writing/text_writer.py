"""Tool `write_text`: the run's LLM writes a short text through the structured-output helper.

The text is the model's own: it is kept when it validates (words, no empty lines of markup) and is
otherwise refused with a clear error. Nothing is made up in its place, so a weak model shows as a
failed step, not as a canned joke.
"""
from __future__ import annotations

import re

from pydantic import BaseModel, Field

from tools.core.context import ToolContext
from tools.core.prompts import PromptBook
from tools.core.registry import tool
from tools.core.structured_output import StructuredOutputError, invoke_structured
from tools.core.types import ToolError, ToolResult

PROMPTS = PromptBook.beside(__file__)
MAX_CHARS = 1200  # a short text: a joke, a line, a few lines of script


class Draft(BaseModel):
    """What the model is asked for."""

    text: str = Field(min_length=2, max_length=MAX_CHARS, description="the text itself, nothing about it")


class WrittenText(ToolResult):
    text: str
    words: int
    source: str = "llm"  # always the model's words; a model that gave nothing usable fails the step instead
    dropped_repeats: int = 0  # sentences the model said again word for word (small models loop), left out

    def summary(self) -> str:
        again = f" ({self.dropped_repeats} repeated sentence(s) left out)" if self.dropped_repeats else ""
        return f"wrote {self.words} words{again}: {self.text[:300]}"


def without_repeats(text: str) -> tuple[str, int]:
    """The text with each sentence kept once, in order: a small model that loops says one sentence again and
    again (and is cut off inside the last repeat); the repeats are its words but not its text."""
    sentences = [p for p in re.split(r"(?<=[.!?…])\s+", text) if p]
    kept: list[str] = []
    seen: set[str] = set()
    for i, sentence in enumerate(sentences):
        key = re.sub(r"\W+", " ", sentence.lower()).strip()
        cut_off = i == len(sentences) - 1 and not re.search(r"[.!?…][\"'”’)]*$", sentence)
        if key and (key in seen or (cut_off and any(k.startswith(key) for k in seen))):
            continue
        seen.add(key)
        kept.append(sentence)
    return " ".join(kept), len(sentences) - len(kept)


def usable(text: str, max_words: int) -> tuple[str, str]:
    """(the cleaned text, "") when it can be kept, else ("", why not)."""
    cleaned = " ".join(text.replace("\r", "").split()).strip("\"'“”«» ")
    found = re.findall(r"[^\W\d_]+", cleaned)
    if len(found) < 2:
        return "", "it has fewer than two words"
    if len(found) > max_words * 2:  # a model that rambles past twice the ask wrote something else
        return "", f"it has {len(found)} words, far past the {max_words} asked"
    if re.search(r"<[^>]*>|\{|\}", cleaned):
        return "", "it is a template or markup, not a text"
    return cleaned, ""


@tool(family="writing")
def write_text(ctx: ToolContext, request: str, max_words: int = 60) -> WrittenText:
    """Write a short text (a joke, a line, a short script or poem) with the run's LLM.

    Args:
        request: what to write, in the user's words
        max_words: the most words the text may have (5 to 300)
    """
    from langchain_core.messages import HumanMessage, SystemMessage

    if not request.strip():
        raise ToolError("nothing to write about: the request is empty", "say what to write, e.g. a joke about tides")
    if not 5 <= max_words <= 300:
        raise ToolError(f"max_words={max_words} is out of range", "ask for 5 to 300 words")
    llm = ctx.require_llm()
    msg = PROMPTS("text_request", request=request.strip(), max_words=max_words)
    try:
        draft = invoke_structured(llm, [SystemMessage(content=PROMPTS("text_system")), HumanMessage(content=msg)],
                                  Draft, trace=ctx.trace, purpose="write_text")
    except StructuredOutputError as exc:
        raise ToolError(f"the model gave no usable text: {str(exc)[:300]}",
                        "a larger writer model helps (animstudio models install)") from exc
    once, repeats = without_repeats(draft.text)
    text, why = usable(once, max_words)
    if not text:
        raise ToolError(f"the model gave no usable text: {why} ({draft.text[:120]!r})",
                        "a larger writer model helps (animstudio models install)")
    return WrittenText(text=text, words=len(text.split()), dropped_repeats=repeats)
