"""The deterministic slot extractor: the request's own words → typed slots (English and Italian).

Each rule reads the request and adds the slots it finds with the words that stated them. Rules
run in order and never overwrite an earlier rule's slot; `register_rule` adds a rule for another
job (image prompts, counts, lines to voice...) without touching these.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from agent.planning.slots.models import RequestSlots, content_words

VOCABULARY = Path(__file__).with_name("vocabulary.yaml")


@dataclass
class Context:
    """What the rules may consult besides the request."""

    known_names: list[str] = field(default_factory=list)  # characters from the knowledge base / transcript
    film_titles: list[str] = field(default_factory=list)  # titles that are not characters
    presets: list[str] = field(default_factory=list)  # character presets (configs/characters.yaml)
    datasets: list[str] = field(default_factory=list)  # datasets that exist (folders under datasets/)


Rule = Callable[[str, RequestSlots, Context], None]
_RULES: list[tuple[str, Rule]] = []


def register_rule(name: str, rule: Rule) -> None:
    """Add (or replace, by name) a rule; rules run in registration order."""
    for i, (existing, _) in enumerate(_RULES):
        if existing == name:
            _RULES[i] = (name, rule)
            return
    _RULES.append((name, rule))


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    from agent.planning.slots.numbers import number_table

    data = yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))
    data["numbers"] = number_table(data["number_words"])
    return data


def _phrase(words: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(words).replace(r"\ ", r"\s+") + r"(?!\w)", re.I)


# ---- quotes and reported speech ------------------------------------------------------------

_QUOTES = [re.compile(p) for p in (r'"([^"]{3,200})"', r"“([^”]{3,200})”", r"«([^»]{3,200})»", r"‘([^’]{3,200})’",
                                   r"(?:^|\s)'(.{3,200}?)'(?=[\s,.;:!?)]|$)")]
_SPEAKER = r"(?:(?:she|he|they|someone|somebody|everyone|the\s+\w+(?:\s+\w+)?|[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+){0,2})\s+)?"
_SAY = (r"(?:says?|said|asks?|asked|tells?\s+\w+|told\s+\w+|shouts?|shouted|whispers?|whispered|yells?|"
        r"yelled|screams?|screamed|cries|mentions?|explains?|admits?|replies|answers?)")
_REPORTED_EN = re.compile(r"\b(?:where|when|in\s+which|the\s+(?:bit|part|moment|one|scene)(?:\s+where|\s+when)?)\s+"
                          + _SPEAKER + _SAY + r"\s+(?:that\s+|something\s+like\s+)?(?P<said>.+)", re.I)
_REPORTED_IT = re.compile(r"\b(?:dove|quando|in\s+cui|nella\s+quale)\s+(?:(?:lei|lui|loro|qualcuno|[A-Z][\w'-]+|"
                          r"il\s+\w+|la\s+\w+)\s+)?(?:dice|chiede|grida|urla|sussurra|risponde|spiega|ammette|"
                          r"dice\s+a\s+\w+|afferma)\s+(?:che\s+)?(?P<said>.+)", re.I)
_LINE = re.compile(r"\b(?:the\s+line|la\s+battuta|la\s+frase)\s+(?:about\s+|sul(?:la|lo)?\s+|che\s+dice\s+)?(?P<said>.+)",
                   re.I)


def _mask_quotes(text: str) -> str:
    """`text` with quoted passages blanked (same length), so their punctuation ends nothing."""
    for pattern in _QUOTES:
        text = pattern.sub(lambda m: m.group(0)[0] + "_" * (len(m.group(0)) - 1), text)
    return text


def _cut_tail(text: str) -> str:
    """The phrase up to where style, length or another clause begins."""
    end = len(text)
    masked = _mask_quotes(text)
    for pattern in _tails():
        m = pattern.search(masked)
        if m and m.start() > 0:
            end = min(end, m.start())
    return text[:end].strip(" \t,;")


@lru_cache(maxsize=1)
def _tails() -> list[re.Pattern]:
    words = sorted({w for ws in vocabulary()["tones"].values() for w in ws}, key=len, reverse=True)
    in_tone = r"\s+(?:in|as|with)\s+(?:an?\s+)?(?:" + "|".join(re.escape(w) for w in words) + r")\b"
    return [re.compile(p, re.I) for p in [*vocabulary()["scene_tail"], in_tone]]


def quotes_and_speech(request: str, slots: RequestSlots, ctx: Context) -> None:
    for pattern in _QUOTES:
        m = pattern.search(request)
        if m:
            slots.add("said", m.group(1).strip(), m.group(0))
            break
    for pattern in (_REPORTED_EN, _REPORTED_IT, _LINE):
        m = pattern.search(request)
        if m:
            said = _cut_tail(m.group("said")).strip("\"'“”«»‘’ ")
            if len(said.split()) >= 2:
                slots.add("said", said, m.group(0)[: m.start("said") - m.start() + len(said)])
            break


# ---- the scene ------------------------------------------------------------------------------

_SCENE_NOUNS_EN = r"(?:scene|bit|part|moment|shot|sequence|segment|clip|one)"
_RELATIVE_EN = re.compile(r"\b(?:the|that|this)\s+(?:whole\s+|entire\s+|same\s+)?" + _SCENE_NOUNS_EN
                          + r"\s+(?:where|with|in\s+which|when|that|of|about|showing|at|in|on|during|after|before|"
                            r"(?:she|he|they|someone|somebody|[A-Z][\w'-]+)\s+" + _SAY + r")\b", re.I)
_IT_ARTICLE = r"(?:la|quella|questa|una|della|dalla|nella|sulla|alla|per\s+la)"
_IT_PREP = (r"(?:in\s+cui|dove|con|quando|che|della|del|dello|dell['’]|degli|delle|dei|sulla|sul|sullo|nella|nel|"
            r"nello|nei|negli|nelle|al|alla|allo|ai|agli|alle|coi|col)")
_RELATIVE_IT = re.compile(r"\b" + _IT_ARTICLE + r"\s+(?:scena|parte|sequenza|inquadratura)\s*" + _IT_PREP
                          + r"|\b(?:il|quel|questo|un|del|nel|dal|al)\s+(?:pezzo|momento|punto|tratto)\s*" + _IT_PREP,
                          re.I)
_ADJECTIVE_IT = re.compile(r"\b" + _IT_ARTICLE + r"\s+scena\s+(?!(?:in|di|da|per|con|e|come|comica|divertente)\b)"
                           r"([a-zà-ù]{4,})\b", re.I)
_NOUN_SCENE_EN = re.compile(r"((?:[\w'’-]+\s+){1,5})(?:scene|sequence|shot|bit|moment)s?\b", re.I)
_STOP_BEFORE_SCENE = {
    "of", "a", "an", "the", "this", "that", "these", "those", "my", "your", "our", "make", "parody", "spoof", "redub",
    "dub", "do", "turn", "remake", "redo", "give", "me", "funny", "comic", "silly", "whole", "entire", "same",
    "parodies", "for", "from", "in", "on", "with", "to", "and", "please", "can", "you", "version", "short", "new",
    "one", "another", "next", "favourite", "favorite", "famous", "iconic",
}
_DETERMINERS = {"the", "this", "that", "my", "your", "our"}
# "a parody of the dragon attack", "spoof the fight on the mountain", "parodia del combattimento"
_OBJECT_OF_PARODY = re.compile(
    r"\b(?:parody|parodies|spoof|redub|re-dub|dub|remake|version|meme|parodia|parodie|versione|doppiaggio)\s+"
    r"(?:of\s+|about\s+|on\s+)?(?P<np>(?:the|that|this)\s+.+)"
    r"|\b(?:parodia|versione|meme|doppiaggio|parodie)\s+(?:comica\s+|divertente\s+)?"
    r"(?P<np_it>(?:del|della|dello|dell['’]|dei|degli|delle|sul|sulla|sullo)\s*.+)", re.I)


_IT_CONTRACTED = re.compile(r"^(?:della|dalla|nella|sulla|alla|per\s+la)\s+(?=scena\b)", re.I)


def _meaningful(phrase: str | None) -> bool:
    return bool(phrase) and bool(content_words(phrase))


def _noun_phrase_before_scene(request: str) -> str | None:
    """"...parody of the ocean scene" → "the ocean scene"; None when only filler words precede."""
    for m in _NOUN_SCENE_EN.finditer(request):
        words = m.group(1).split()
        kept: list[str] = []
        determiner = ""
        for word in reversed(words):
            low = word.lower().strip("'’")
            if low in _STOP_BEFORE_SCENE:
                determiner = word if low in _DETERMINERS else ""
                break
            kept.insert(0, word)
        if kept:
            noun = m.group(0).split()[-1]
            return " ".join(([determiner] if determiner else []) + kept + [noun])
    return None


def _position(request: str) -> tuple[str, str] | None:
    for position, words in vocabulary()["positions"].items():
        for word in sorted(words, key=len, reverse=True):
            m = _phrase(word).search(request)
            if m:
                return position, m.group(0)
    return None


def _gloss_it(text: str) -> str:
    """English words for the Italian scene words in `text` (the scene descriptions are English)."""
    low = text.lower()
    found = []
    for it, en in sorted(vocabulary()["glossary_it"].items(), key=lambda kv: -len(kv[0])):
        if _phrase(it).search(low) and en not in found:
            found.append(en)
            low = _phrase(it).sub(" ", low)
    return ", ".join(found)


def _scene_phrase(request: str) -> str | None:
    """The user's words naming the scene, most explicit form first."""
    for pattern in (_RELATIVE_EN, _RELATIVE_IT, _ADJECTIVE_IT):
        m = pattern.search(request)
        if m:
            phrase = _cut_tail(request[m.start():])
            if _meaningful(phrase) and _position(phrase) is None:
                return phrase
    phrase = _noun_phrase_before_scene(request)
    if _meaningful(phrase):
        return _cut_tail(phrase)
    return None


def scene(request: str, slots: RequestSlots, ctx: Context) -> None:
    phrase = _scene_phrase(request)
    if phrase is None:
        m = _OBJECT_OF_PARODY.search(request)
        if m:
            candidate = _cut_tail(m.group("np") or m.group("np_it"))
            phrase = candidate if _meaningful(candidate) and _position(candidate) is None else None
    position = _position(phrase or request)  # a position inside the scene's words, or named instead of a scene
    if position:
        slots.add("position", position[0], position[1])
        if phrase is None:
            start = request.lower().find(position[1].lower())
            lead = [w for w in request[:start].split()[-2:]
                    if w.lower() in ("the", "whole", "entire", "il", "tutto", "tutta", "la")]
            phrase = " ".join(lead + [position[1]])
    if phrase is None and slots.value("at") is not None:
        phrase = f"the scene {slots.found['at'].evidence}"
    if phrase is None and slots.value("said"):
        phrase = f"the scene where someone says \"{slots.value('said')}\""
    if phrase:
        evidence = phrase
        phrase = _IT_CONTRACTED.sub("la ", phrase)  # "della scena con il drago" → "la scena con il drago"
        if slots.language == "it":
            gloss = _gloss_it(phrase)
            phrase = f"{phrase} ({gloss})" if gloss else phrase
        slots.add("scene", phrase, evidence)


# ---- style: tone, length, extent --------------------------------------------------------------

def tone(request: str, slots: RequestSlots, ctx: Context) -> None:
    """Tone words outside the scene's own words ("the dark hut" names a place, not a tone)."""
    scene_words = slots.found["scene"].evidence if "scene" in slots.found else ""
    if scene_words and scene_words in request:
        request = request.replace(scene_words, " " * len(scene_words))
    hits: list[tuple[int, str, str]] = []
    for canonical, words in vocabulary()["tones"].items():
        for word in sorted(words, key=len, reverse=True):
            m = _phrase(word).search(request)
            if m:
                hits.append((m.start(), canonical, m.group(0)))
                break
    if not hits:
        return
    hits.sort()
    names = [h[1] for h in hits]
    if len(names) > 1 and "funny" in names:  # "a funny parody as a nature documentary": the specific one
        names.remove("funny")
    slots.add("tone", " and ".join(dict.fromkeys(names)), ", ".join(h[2] for h in hits))


_UNIT_S = r"(?:sec|secs|seconds?|secondi|secondo)"
_UNIT_M = r"(?:min|mins|minutes?|minuti|minuto)"


@lru_cache(maxsize=1)
def _length_patterns() -> tuple[re.Pattern, re.Pattern]:
    words = "|".join(sorted((re.escape(w) for w in vocabulary()["numbers"]), key=len, reverse=True))
    number = r"(\d+(?:[.,]\d+)?|(?<!\w)(?:" + words + r"|a|an)\b)"
    seconds = re.compile(r"(?:(\d+(?:[.,]\d+)?)\s*-?\s*s\b|" + number + r"\s*-?\s*" + _UNIT_S + r"\b)", re.I)
    minutes = re.compile(number + r"\s*-?\s*(?:" + _UNIT_M + r"\b|m\b(?=\s))", re.I)
    return seconds, minutes


_HALF_MINUTE = re.compile(r"\b(?:half\s+a\s+minute|mezzo\s+minuto)\b", re.I)


def _number(token: str) -> float | None:
    token = token.lower()
    if re.fullmatch(r"\d+(?:[.,]\d+)?", token):
        return float(token.replace(",", "."))
    value = vocabulary()["numbers"].get(token)
    if value is None and token in ("a", "an"):
        return 1.0
    return None if value is None else float(value)


def duration(request: str, slots: RequestSlots, ctx: Context) -> None:
    m = _HALF_MINUTE.search(request)
    if m:
        slots.add("duration", 30.0, m.group(0))
        return
    seconds, minutes = _length_patterns()
    for pattern, scale in ((seconds, 1.0), (minutes, 60.0)):
        for m in pattern.finditer(request):
            value = _number(next(g for g in m.groups() if g))
            if value is not None and 0 < value * scale <= 3600:
                slots.add("duration", round(value * scale, 1), m.group(0))
                return


_EXTEND = re.compile(r"\b(?:the\s+whole|the\s+entire|all\s+of\s+the|and\s+what\s+(?:follows|comes\s+next|happens\s+next)|"
                     r"and\s+the\s+(?:following|next)\s+scenes?|tutta\s+la|tutto\s+l['’]|tutto\s+il|l['’]intera|"
                     r"l['’]intero|e\s+(?:quello\s+)?che\s+segue)\b", re.I)


def extent(request: str, slots: RequestSlots, ctx: Context) -> None:
    m = _EXTEND.search(request)
    if m:
        slots.add("extend", True, m.group(0))


# ---- characters ---------------------------------------------------------------------------------

_CAPITALISED = re.compile(r"(?<![\w'])([A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ]+){0,2})(?:['’]s)?\b")
_NOT_NAMES = {"i", "the", "a", "make", "please", "narrator", "scene", "parody", "english", "italian", "youtube",
              "tiktok", "instagram", "la", "il", "lo", "una", "un", "fai", "rifai", "crea", "fammi", "voglio"}


def characters(request: str, slots: RequestSlots, ctx: Context) -> None:
    """Names the knowledge base or the transcript knows (first names too), then capitalised names."""
    found: list[tuple[int, str, str]] = []
    titles = {t.lower() for t in ctx.film_titles}
    for name in sorted(set(ctx.known_names), key=len, reverse=True):
        for alias in [name, *[w for w in name.split() if len(w) >= 3 and w[0].isupper()]]:
            if alias.lower() in titles and alias != name:
                continue
            m = _phrase(alias).search(request)
            if m and name not in [f[1] for f in found]:
                found.append((m.start(), name, m.group(0)))
                break
    not_names = {w.lower() for w in vocabulary()["not_names"]}
    style_after = re.compile(vocabulary()["style_after_name"], re.I)
    masked = _mask_quotes(request)
    for m in _CAPITALISED.finditer(masked):
        word = m.group(1)
        if m.start() == 0 or word.lower() in _NOT_NAMES or word.lower() in titles or word.lower() in not_names:
            continue
        if style_after.match(masked, m.end()):  # "Pixar-style voices": a style, not a character
            continue
        if any(word.lower() in f[1].lower() for f in found):
            continue
        if any(w.lower() in _NOT_NAMES for w in word.split()):
            continue
        found.append((m.start(), word, m.group(0)))
    if found:
        found.sort()
        slots.add("characters", [f[1] for f in found], ", ".join(f[2] for f in found))


# ---- language -------------------------------------------------------------------------------

_ITALIAN = re.compile(r"\b(?:la|il|lo|gli|della|dello|dell|delle|degli|una|uno|fai|rifai|crea|fammi|scena|parodia|"
                      r"versione|comica|divertente|dove|che|con|per|di|del|secondi|voglio|sottotitoli|inizio|finale)\b",
                      re.I)


# English words Italian never uses (not "a", "in", "i", "come", "me": Italian has them too).
_ENGLISH = re.compile(r"\b(?:the|an|of|to|with|and|for|from|on|my|your|you|it|is|are|what|how|up|about|this|that|"
                      r"please|can|could|would|will|some|me|into|out|at|his|her|their|they)\b", re.I)


def plainly_english(request: str) -> bool:
    """Is the request (outside its quotes) plainly English: English function words and no Italian ones?
    Then Italian patterns do not apply to it ("Come up with …" is not Italian "come")."""
    masked = _mask_quotes(request)
    return len(_ENGLISH.findall(masked)) >= 2 and not _ITALIAN.search(masked)


def detect_language(request: str) -> str:
    words = re.findall(r"[\wà-ù']+", request)
    hits = len(_ITALIAN.findall(request))
    return "it" if words and hits >= max(2, len(words) // 6) else "en"


_AT = re.compile(r"\b(?:at|from|alle|al|a)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,](\d{1,3}))?\b", re.I)


def timestamp(request: str, slots: RequestSlots, ctx: Context) -> None:
    """"the scene at 0:12", "the bit at 1:02:30.5" → seconds into the film."""
    m = _AT.search(request)
    if not m:
        return
    a, b, c, frac = m.groups()
    seconds = (int(a) * 3600 + int(b) * 60 + int(c)) if c else (int(a) * 60 + int(b))
    slots.add("at", round(seconds + (float(f"0.{frac}") if frac else 0.0), 3), m.group(0))


for _name, _rule in (("quotes_and_speech", quotes_and_speech), ("timestamp", timestamp), ("scene", scene), ("tone", tone),
                     ("duration", duration), ("extent", extent), ("characters", characters)):
    register_rule(_name, _rule)


def extract_slots(request: str, known_names: Iterable[str] = (), film_titles: Iterable[str] = (),
                  presets: Iterable[str] = (), datasets: Iterable[str] = ()) -> RequestSlots:
    """Every slot the request states, each with the words that stated it."""
    text = " ".join((request or "").split())
    slots = RequestSlots(request=text, language=detect_language(text))  # type: ignore[arg-type]
    ctx = Context(known_names=[n for n in known_names if n], film_titles=[t for t in film_titles if t],
                  presets=[p for p in presets if p], datasets=[d for d in datasets if d])
    for _, rule in _RULES:
        rule(text, slots, ctx)
    return slots


_SCENE_JOB = re.compile(r"\b(?:parod\w*|spoof\w*|re-?dub\w*|dub\w*|meme|subtitl\w*|caption\w*|clip|cut|trim|doppi\w*|"
                        r"sottotitol\w*|rifai|taglia)\b", re.I)


def is_scene_job(request: str) -> bool:
    """A job on one scene of a film (parody, dub, subtitles, a cut)."""
    return bool(_SCENE_JOB.search(request))


def scene_answer_phrase(answer: str) -> str:
    """The user's answer to "which scene?" as words the extractor reads as the scene."""
    answer = " ".join(answer.split()).strip()
    if not answer:
        return ""
    if answer[0] in "\"“«'‘":
        return f"the scene where someone says {answer}"
    if re.match(r"(?:where|when|with|in\s+which|in\s+cui|dove|con|quando)\b", answer, re.I):
        return f"the scene {answer}"
    if re.match(r"(?:the|la|il|l['’])\s*", answer, re.I) and _position(answer):
        return answer
    return f"the scene with {answer}"
