"""Facts about a request and its run that tell jobs apart, beside its verbs and objects.

Workflows weigh them in their `route.signals` (e.g. a quoted line points to voicing it, a time
range to cutting by times, an existing dataset's name to training or filtering it). The values come
from the request's slots (agent/planning/slots), the files given to the run, and two patterns:
a question, and a question about recent facts.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agent.planning.slots.extract import plainly_english

# A question, by its first words or its mark; the Italian words apply only to a request that is not
# plainly English ("Come up with a limerick" is an order, "Come funziona?" a question).
QUESTION = re.compile(
    r"^\s*(?:who|what|what's|whats|why|how|where|when|which|whose|is|are|does|do|did|can|could|will|would|should|"
    r"tell me)\b|\?\s*$"
    # an embedded question after a verb that only asks is a question too ("explain how a LoRA learns")
    r"|^\s*(?:please\s+)?(?:explain|let me know|i wonder|i want to know|i'd like to know)\s+"
    r"(?:what|who|why|how|where|when|which|whether|if)\b", re.I)
QUESTION_IT = re.compile(
    r"^\s*(?:chi|cosa|cos['’]è|che cosa|che|perch[eé]|come|dove|quando|qual\w*|quant\w*|c['’]è|ci sono|esiste)\b", re.I)
# Recent or changing facts: the answer is on the web, not in the shipped knowledge.
FRESH = re.compile(
    r"\b(?:latest|newest|news|today|tonight|this (?:week|month|year|season)|next (?:week|month|year)|current(?:ly)?|"
    r"recent(?:ly)?|upcoming|coming out|release date|box office|just (?:announced|released|came out)|announced|"
    r"trending|20[2-9]\d|ultim[oaie]|notizi\w+|oggi|quest['’ ]?anno|questa settimana|questo mese|prossim[oaie]|"
    r"in uscita|annunciat\w|di recente|recent\w+|incass\w+|botteghino)\b", re.I)
# An order phrased as a question is an order: "can you draw…?", "can I get…?", "do a parody…?",
# "can Pip say '…'?", "mi fai…?". Only what is left is a question.
POLITE = re.compile(r"^\s*(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+)?(?!tell|explain|say\b|describe|remind)|"
                    r"^\s*(?:can|could|may)\s+(?:i|we)\s+(?:please\s+)?(?:get|have|see)\b|"
                    r"^\s*(?:please\s+)?do\s+(?:a|an|some|me|us|the|this|that|my|it)\b|"
                    r"^\s*(?:can|could|will|would)\s+(?:the\s+)?[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?\s+"
                    r"(?:say|speak|shout|whisper|sing|read|yell)\b", re.I)
# "mi fai …?", "mi ritagli …?", "mi trascrivi …?": "mi" and a verb of the second person asks a service
# of the listener, an order ("mi dici / spieghi / racconti …?" asks to be told: a question).
POLITE_IT = re.compile(r"^\s*(?:mi\s+)?(?:puoi|potresti|riesci a|fai|faresti|fareste)\s+(?!dirmi|spiegarmi|raccontarmi)|"
                       r"^\s*mi\s+(?!(?:dici|dite|spieghi|spiegate|racconti|raccontate|sai|sapete|serve|servono|piace|"
                       r"piacciono|chiedo|domando)\b)[a-zà-ù]+(?:i|ete|ate)\b", re.I)
# "the latest scene" is the last one in the film, not news.
IN_FILM = re.compile(r"\s+(?:scene|shot|bit|part|moment|clip|frame|line|sequence|one|scena|inquadratura|parte|"
                     r"battuta|sequenza)s?\b", re.I)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
SIGNALS = ("english", "question", "fresh", "quote", "time_range", "time_start", "count", "preset_character", "dataset_named",
           "image_input", "folder_input", "film_given")


def is_fresh(request: str) -> bool:
    """Recent facts asked for; a recency word before a part of the film ("the latest scene") is a place in it."""
    return any(not IN_FILM.match(request, m.end()) for m in FRESH.finditer(request))


def request_signals(request: str, slots: Any, *, film_given: bool, inputs: list[str | Path] | None = None) -> dict[str, bool]:
    """Every signal in SIGNALS, True or False. `slots` is the request's RequestSlots."""
    found = getattr(slots, "found", {}) or {}
    said = found.get("said")
    quoted = bool(said and said.evidence[:1] in "\"'“«‘")
    named_inputs = [Path(p) for p in inputs or []]
    english = plainly_english(request)
    asks = QUESTION.search(request) or (not english and QUESTION_IT.search(request))
    polite = POLITE.search(request.strip()) or (not english and POLITE_IT.search(request.strip()))
    return {
        "english": english,  # Italian patterns do not apply (agent/planning/slots/extract.plainly_english)
        "question": bool(asks) and not polite,
        "fresh": is_fresh(request),
        # A line to voice: quoted words, or "make X say ..." (a speaker and the words they say).
        "quote": quoted or bool(said and "speaker" in found and not said.evidence.lower().startswith(("where", "when"))),
        "time_range": "start_s" in found and "end_s" in found,
        "time_start": "start_s" in found and "end_s" not in found,  # "from 0:40 onwards": a clip by time
        "count": "count" in found,
        "preset_character": "character" in found,
        "dataset_named": "dataset" in found,
        "image_input": any(p.suffix.lower() in IMAGE_SUFFIXES for p in named_inputs),
        "folder_input": any(p.is_dir() for p in named_inputs),
        "film_given": film_given,
    }
