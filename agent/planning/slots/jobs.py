"""Slot rules for the one-step jobs: what to draw and how many, whose voice says which line, a time
range, a dataset, a character preset, what to measure in a film (English and Italian).

Registered after the core rules (quotes, scene, tone, length, characters), so a slot those found
is never overwritten. Words live in jobs.yaml.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from agent.planning.slots.extract import Context, register_rule, vocabulary
from agent.planning.slots.models import RequestSlots
from agent.planning.slots.resolve import MODEL_CHECKS, CheckContext, _check_text, _never


@lru_cache(maxsize=1)
def words() -> dict:
    return yaml.safe_load(Path(__file__).with_name("jobs.yaml").read_text(encoding="utf-8"))

# ---- numbers and times -------------------------------------------------------------------------


def _number_word(token: str) -> float | None:
    token = " ".join(token.lower().split())
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return float(token) if "." in token else int(token)
    value = vocabulary()["numbers"].get(token) or words()["quantities"].get(token)
    return None if value is None else int(value)


@lru_cache(maxsize=1)
def _count_pattern() -> re.Pattern:
    numbers = sorted({*vocabulary()["numbers"], *words()["quantities"]}, key=len, reverse=True)
    items = "|".join(words()["countable"])
    return re.compile(r"(?<!\w)(\d{1,2}|" + "|".join(re.escape(w) for w in numbers) + r")\s+(?:\w+\s+){0,2}?(?:"
                      + items + r")\b", re.I)


def count(request: str, slots: RequestSlots, ctx: Context) -> None:
    """"three images of", "4 pictures", "due immagini", "a couple of posters"."""
    m = re.search(r"\ba (couple|pair) of\b", request, re.I)
    if m:
        slots.add("count", 2, m.group(0))
        return
    m = _count_pattern().search(request)
    if m:
        value = _number_word(m.group(1))
        if value is not None and 1 <= value <= 16:
            slots.add("count", value, m.group(0))


_CLOCK = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d+)?"
_UNIT_S = r"(?:s|sec|secs|seconds?|secondi|secondo)"
_UNIT_M = r"(?:m|min|mins|minutes?|minuti|minuto)"


@lru_cache(maxsize=1)
def _time_patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern, re.Pattern]:
    """A time: a clock (1:05), "1m05s", or a number (digits or words) with its unit before or after
    ("minute 3", "secondo 45", "40 seconds", "ninety s"); a range of two; "the first N"; N from T."""
    numbers = "|".join(re.escape(w) for w in sorted(vocabulary()["numbers"], key=len, reverse=True))
    num = rf"(?:\d+(?:[.,]\d+)?|(?<!\w)(?:{numbers})(?!\w))"
    # A time may carry an article before it ("the 1:05 mark", "il secondo 10") and a word after it that
    # says it is a point in the film ("the 1:05 mark", "twelve seconds in").
    time = (rf"(?:(?:the|il|lo|al)\s+)?(?:(?P<{{g}}clock>{_CLOCK})|(?P<{{g}}ms>\d+m\s*\d+s)|"
            rf"(?:(?P<{{g}}pre>{_UNIT_S[3:-1]}|{_UNIT_M[3:-1]})\s+)?(?P<{{g}}n>{num})"
            rf"(?:\s*-?\s*(?P<{{g}}post>{_UNIT_M[3:-1]}|{_UNIT_S[3:-1]})\b)?)(?:\s+(?:mark|point|in)\b)?")
    a, b = time.replace("{g}", "a_"), time.replace("{g}", "b_")
    span = re.compile(rf"\b(?:from|between|da|dal|dai|tra|fra)?\s*{a}\s*(?:-|–|to|through|thru|up\s+to|until|till|and|"
                      rf"a|al|e|fino\s+a|fino\s+al)\s*{b}", re.I)
    # "the first / opening / initial N seconds": a range from the start of the film.
    first = re.compile(rf"\b(?:the\s+(?:first|opening|initial|starting|beginning)|(?:the\s+)?first|i\s+primi|le\s+prime)"
                       rf"\s+(?P<n>{num})\s*-?\s*(?P<unit>{_UNIT_S[3:-1]}|{_UNIT_M[3:-1]})\b", re.I)
    length = rf"(?P<d>{num})\s*-?\s*(?P<du>{_UNIT_S[3:-1]}|{_UNIT_M[3:-1]})\b"
    start = time.replace("{g}", "s_")
    # "20 seconds beginning at 0:30", "a ten-second clip that starts at 0:14" (a few words between).
    after = re.compile(rf"{length}\s+(?:[\w'-]+\s+){{0,3}}?(?:starting|beginning|starts?|begins?|from|da|dal|che\s+parte\s+da|"
                       rf"a\s+partire\s+da)\s+(?:at\s+|from\s+)?(?:the\s+)?{start}", re.I)
    before = re.compile(rf"(?:starting|beginning|from|da|dal|a\s+partire\s+da)\s+(?:at\s+)?(?:the\s+)?{start}[\s,]+(?:for\s+|per\s+)?{length}", re.I)
    return span, first, after, before


def _value(m: re.Match, g: str, unit_hint: str | None = None) -> tuple[float | None, bool]:
    """Seconds of the time in group prefix `g`, and whether it carried its own unit."""
    if m.group(g + "clock"):
        total = 0.0
        for part in m.group(g + "clock").replace(",", ".").split(":"):
            total = total * 60 + float(part)
        return total, True
    if m.group(g + "ms"):
        mins, secs = re.fullmatch(r"(\d+)m\s*(\d+)s", m.group(g + "ms")).groups()
        return int(mins) * 60 + int(secs), True
    n = _number_word(m.group(g + "n").replace(",", "."))
    unit = m.group(g + "pre") or m.group(g + "post") or unit_hint
    if n is None:
        return None, False
    scale = 60 if unit and re.fullmatch(_UNIT_M, unit, re.I) else 1
    return float(n) * scale, bool(m.group(g + "pre") or m.group(g + "post"))


def time_range(request: str, slots: RequestSlots, ctx: Context) -> None:
    """"from 0:12 to 0:27", "seconds 5 to 18", "between forty and ninety seconds", "da 1:05 a 1:20",
    "dal minuto 3 al minuto 4", "the first 10 seconds", "15 seconds starting at 0:40"."""
    span, first, after, before = _time_patterns()
    for m in span.finditer(request):
        b, b_unit = _value(m, "b_")
        hint = m.group("b_pre") or m.group("b_post")
        a, a_unit = _value(m, "a_", hint)
        if a is None or b is None or not (a_unit or b_unit) or b <= a:
            continue
        slots.add("start_s", a, m.group(0))
        slots.add("end_s", b, m.group(0))
        return
    m = first.search(request)
    if m:
        n = _number_word(m.group("n"))
        if n:
            scale = 60 if re.fullmatch(_UNIT_M, m.group("unit"), re.I) else 1
            slots.add("start_s", 0.0, m.group(0))
            slots.add("end_s", float(n * scale), m.group(0))
            return
    m = re.search(rf"(?:from|starting\s+(?:at|from)|beginning\s+at|a\s+partire\s+da|dal|che\s+parte\s+da[l]?)\s+"
                  rf"(?:the\s+|il\s+)?(?P<t>{_CLOCK}|(?:second[oi]?|minut[oi])\s+\d+|\d+\s*{_UNIT_S}\b)(?!\s*(?:-|–|to|a|al|e|and|until|fino)\s*\d)",
                  request, re.I)
    open_start = m.group(0) if m else None
    for pattern in (after, before):
        m = pattern.search(request)
        if m:
            start, _ = _value(m, "s_")
            length = _number_word(m.group("d").replace(",", "."))
            if start is not None and length:
                length *= 60 if re.fullmatch(_UNIT_M, m.group("du"), re.I) else 1
                slots.add("start_s", start, m.group(0))
                slots.add("end_s", start + float(length), m.group(0))
                return
    if open_start:  # only where it starts ("from 0:40 onwards"): the end is asked for
        start = _clock_or_seconds(open_start)
        if start is not None:
            slots.add("start_s", start, open_start)


def _clock_or_seconds(text: str) -> float | None:
    m = re.search(_CLOCK, text)
    if m:
        total = 0.0
        for part in m.group(0).replace(",", ".").split(":"):
            total = total * 60 + float(part)
        return total
    m = re.search(r"(\d+(?:[.,]\d+)?)", text)
    if not m:
        return None
    scale = 60 if re.search(r"minut", text, re.I) else 1
    return float(m.group(1).replace(",", ".")) * scale


def training_steps(request: str, slots: RequestSlots, ctx: Context) -> None:
    m = re.search(r"\b(\d{2,6})\s+(?:training\s+)?(?:steps|passi|iterazioni|iterations)\b", request, re.I)
    if m:
        slots.add("steps", int(m.group(1)), m.group(0))


# ---- who: character presets, the speaker, datasets -------------------------------------------


def _find_name(text: str, names: list[str]) -> tuple[str, str] | None:
    """The first of `names` the text mentions, by full name or a word of it ("Brine"), as (name, words)."""
    hits = []
    for name in names:
        for alias in [name, *[w for w in name.split() if len(w) >= 4]]:
            m = re.search(r"(?<!\w)(?:the\s+|il\s+|la\s+|lo\s+|del\s+|della\s+)?" + re.escape(alias) + r"(?:['’]s)?(?!\w)",
                          text, re.I)
            if m:
                hits.append((m.start(), name, m.group(0)))
                break
    return (min(hits)[1], min(hits)[2]) if hits else None


def preset_character(request: str, slots: RequestSlots, ctx: Context) -> None:
    """The character preset the request is about (configs/characters.yaml), for drawing or voicing."""
    if not ctx.presets:
        return
    drawable = [p for p in ctx.presets if p.lower() != "narrator"]
    hit = _find_name(request, drawable) or _find_name(request, ctx.presets)
    if hit:
        slots.add("character", hit[0], hit[1])


_SPEAKER_PATTERNS = [
    r"\bin\s+(?P<who>(?:the\s+)?[\w' ]{2,30}?)['’]s\s+voice\b",
    r"\b(?:with|in)\s+the\s+voice\s+of\s+(?P<who>(?:the\s+)?[\w ]{2,30}?)(?=[,.;:!?\"'“]|\s+(?:saying|say)\b|$)",
    r"\b(?:make|let|have|get)\s+(?P<who>(?:the\s+)?[\w ]{2,30}?)\s+(?:say|speak|read|shout|whisper|yell)\b",
    r"\bas\s+(?P<who>(?:the\s+)?[\w ]{2,30}?)(?=[,.;:!?]|\s+(?:sounding|would)\b|$)",
    r"\bcon\s+la\s+voce\s+(?:di|del|della|dello)\s+(?P<who>[\w ]{2,30}?)(?=[,.;:!?\"'“«]|\s+(?:leggi|di'|dici|pronuncia)\b|$)",
    r"\bfai\s+dire\s+(?:a|al|alla|allo)\s+(?P<who>[\w ]{2,30}?)(?=[,.;:!?\"'“«]|$)",
]


def speaker(request: str, slots: RequestSlots, ctx: Context) -> None:
    """Whose voice says the line: a preset named in "in X's voice", "make X say", "con la voce di X"."""
    for pattern in _SPEAKER_PATTERNS:
        m = re.search(pattern, request, re.I)
        if m:
            hit = _find_name(m.group("who"), ctx.presets) if ctx.presets else None
            if hit:
                slots.add("speaker", hit[0], m.group(0))
                return
            if re.search(r"\bnarrat(or|ore|rice)\b", m.group("who"), re.I):
                slots.add("speaker", "Narrator", m.group(0))
                return
    if ctx.presets and re.search(r"\b(narrator|narratore|voce narrante)\b", request, re.I):
        named = [p for p in ctx.presets if p.lower() == "narrator"]
        if named:
            slots.add("speaker", named[0], "narrator")
            return
    if "character" in slots.found:  # "Pip: 'we are lost'" — the one character named speaks
        slots.add("speaker", slots.value("character"), slots.found["character"].evidence)


_UNQUOTED_LINE = [
    re.compile(r"\b(?:make|let|have|get)\s+(?:the\s+)?[\w ]{2,30}?\s+(?:say|shout|whisper|yell)\s*:?\s+(?P<line>[^\"“«'].{2,200})", re.I),
    re.compile(r"\bfai\s+dire\s+(?:a|al|alla|allo)\s+[\w ]{2,30}?\s*:\s*(?P<line>.{3,200})", re.I),
]


def unquoted_line(request: str, slots: RequestSlots, ctx: Context) -> None:
    """"make Pip say we are lost" (no quotes): the words after the verb are the line."""
    for pattern in _UNQUOTED_LINE:
        m = pattern.search(request)
        if m:
            line = m.group("line").strip(" .")
            if len(line.split()) >= 2:
                slots.add("said", line, m.group(0))
            return


def dataset_name(request: str, slots: RequestSlots, ctx: Context) -> None:
    """An existing dataset (a folder under datasets/) the request names."""
    for name in sorted(ctx.datasets, key=len, reverse=True):
        m = re.search(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])", request, re.I)
        if m:
            slots.add("dataset", name, m.group(0))
            return
    m = re.search(r"\bdataset\s+(?:called\s+|named\s+|chiamato\s+)?[\"'“]?(?P<name>[A-Za-z0-9][\w-]*[_\d-][\w-]*)", request)
    if m:
        slots.add("dataset", m.group("name"), m.group(0))


# ---- what: image prompt, guidance, emotion, film aspects ------------------------------------


@lru_cache(maxsize=1)
def _command_prefix() -> re.Pattern:
    verbs = "|".join(words()["draw_verbs"])
    nouns = "|".join(words()["countable"])
    numbers = "|".join(re.escape(w) for w in sorted({*vocabulary()["numbers"], *words()["quantities"]}, key=len,
                                                    reverse=True))
    return re.compile(
        r"^\s*(?:(?:please|can you|could you|i (?:want|need|would like|'d like)|per favore|puoi|vorrei|mi serve)\s+)*"
        rf"(?:to\s+)?(?:(?:{verbs})\w*\s+)?(?:me\s+|mi\s+)?"
        rf"(?:(?:a|an|the|some|one|{numbers}|\d{{1,2}}|a couple of|a pair of)\s+)?"
        r"(?:(?:new|nice|little|cool|big|single|bella|nuova|nuove|belle)\s+)?"
        rf"(?:(?:\w+[- ])?(?:{nouns})\s+)?"
        r"(?:(?:of|showing|with|where|di|del|della|dello|dei|delle|degli|con|che)\s+)?", re.I)


def image_prompt(request: str, slots: RequestSlots, ctx: Context) -> None:
    """What to draw: the request without its guidance clause ("copying the pose in this photo") and its
    command ("generate three images of"); the whole request when it has neither."""
    text = request.strip().rstrip(".!")
    for clause in words()["guidance_clauses"]:
        text = re.sub(clause, " ", text, flags=re.I)
    text = " ".join(text.split()).strip(" ,;:")
    m = _command_prefix().match(text)
    rest = text[m.end():] if m else text
    rest = rest.strip(" ,;:")
    if re.search(r"\w", rest):
        slots.add("image_prompt", rest, rest)


def control_type(request: str, slots: RequestSlots, ctx: Context) -> None:
    for kind, patterns in words()["guidance"].items():
        for pattern in patterns:
            m = re.search(pattern, request, re.I)
            if m:
                slots.add("control_type", kind, m.group(0))
                return


def emotion(request: str, slots: RequestSlots, ctx: Context) -> None:
    from tools.audio.voice_shaping import default_emotions  # the one list of emotions a voice can take

    known = default_emotions()
    for name, said_as in words()["emotion_words"].items():
        if name not in known:
            continue
        for word in said_as:
            m = re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", request, re.I)
            if m:
                slots.add("emotion", name, m.group(0))
                return


def film_aspects(request: str, slots: RequestSlots, ctx: Context) -> None:
    """What to measure in a film: "how many scenes" → count, "the darkest" → darkest, ..."""
    found: list[tuple[int, str, str]] = []
    for aspect, patterns in words()["aspects"].items():
        for pattern in patterns:
            m = re.search(pattern, request, re.I)
            if m:
                found.append((m.start(), aspect, m.group(0)))
                break
    if found:
        found.sort()
        slots.add("aspects", [a for _, a, _ in found], ", ".join(w for _, _, w in found))


def narration(request: str, slots: RequestSlots, ctx: Context) -> None:
    """The request asks for a narrator / voice-over over a scene."""
    m = re.search(r"\b(narrator|narration|narrated|voice[- ]?over|voce narrante|narratore|narrazione|fuori campo)\b",
                  request, re.I)
    if m:
        slots.add("narration", True, m.group(0))


_NARRATED_QUOTE = re.compile(r"\b(?:narrator|narration|voice[- ]?over|narratore|voce narrante|narrazione)\b[^\"“«'‘]{0,40}"
                             r"(?:saying|that says|who says|:|che dice|dicendo)\s*[\"“«'‘]", re.I)


def narration_text(request: str, slots: RequestSlots, ctx: Context) -> None:
    """A quoted line is the narrator's ("a narrator saying 'Long ago...'"); otherwise it is dialogue in the film."""
    said = slots.found.get("said")
    if said is None:
        return
    if _NARRATED_QUOTE.search(request) and said.evidence[:1] in "\"'“«‘":
        slots.add("narration_text", said.value, said.evidence)
    else:
        slots.add("dialogue", said.value, said.evidence)


for _name, _rule in (("narration", narration), ("narration_text", narration_text), ("count", count), ("time_range", time_range), ("training_steps", training_steps),
                     ("preset_character", preset_character), ("speaker", speaker), ("unquoted_line", unquoted_line),
                     ("dataset_name", dataset_name), ("image_prompt", image_prompt), ("control_type", control_type),
                     ("emotion", emotion), ("film_aspects", film_aspects)):
    register_rule(_name, _rule)


# ---- how a model's value for these kinds is checked (when the request itself is silent) ----------


def _number_in(low: int, high: int):
    def check(value, ctx: CheckContext):
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None, "not a whole number"
        return (number, "") if low <= number <= high else (None, f"{number} is outside {low}–{high}")
    return check


def _named_in_request(value, ctx: CheckContext):
    name = " ".join(str(value or "").split())
    if name and re.search(r"(?<!\w)" + re.escape(name.split()[-1]) + r"(?!\w)", ctx.request, re.I):
        return name, ""
    return None, "names nobody the request mentions"


def _aspects(value, ctx: CheckContext):
    from tools.video.facts import ASPECTS

    kept = [a for a in (value if isinstance(value, list) else [value]) if a in ASPECTS]
    return (kept or None), ("" if kept else "no known aspect")


MODEL_CHECKS.update({
    "count": _number_in(1, 16), "steps": _number_in(1, 100_000), "image_prompt": _check_text(60),
    "character": _named_in_request, "speaker": _named_in_request, "aspects": _aspects, "dialogue": _check_text(30),
    # Times and datasets are facts about the user's files: only the request can state them.
    "start_s": _never, "end_s": _never, "dataset": _never,
})
