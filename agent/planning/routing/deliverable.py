"""What the user wants back: the request's head clause (what to make), its purpose clause (what it is
for), and its deliverables when it asks for two ("write a joke and have Pip say it").

The router scores each job's cues on the head clause; words of a purpose clause count half, so "cut
the scene so I can send it" is a cut and "grab the frames so I can train a LoRA" a dataset for one. A
head clause splits into two deliverables at a coordinator ("and", "then", "e") whose next words open
with a verb, or at a conjunction whose next words open with a question word (two questions asked
at once: "what's on screen and what do they say?"); each part is routed on its own, and the request
becomes a plan of both jobs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

WORDS = Path(__file__).with_name("deliverable.yaml")


@lru_cache(maxsize=1)
def words() -> dict:
    return yaml.safe_load(WORDS.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _purpose() -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in words()["purpose"]), re.I)


@lru_cache(maxsize=1)
def _coordinator() -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in words()["coordinators"]), re.I)


@lru_cache(maxsize=1)
def _conjunction() -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words()["conjunctions"]) + r")\b", re.I)


@lru_cache(maxsize=2)
def _question_word(english: bool) -> re.Pattern:
    languages = ["en"] if english else ["en", "it"]
    alternatives = sorted((w for lang in languages for w in words()["question_words"][lang]), key=len, reverse=True)
    return re.compile(r"\s*(?:" + "|".join(re.escape(w) for w in alternatives) + r")(?![\w'’])", re.I)


def opens_question(text: str, english: bool = False) -> bool:
    """Does `text` open with a question word (an Italian one only when the request is not plainly English)?"""
    return _question_word(english).match(text) is not None


@lru_cache(maxsize=1)
def _fillers() -> re.Pattern:
    alternatives = sorted(words()["fillers"], key=len, reverse=True)
    return re.compile(r"^(?:\s*,?\s*(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in alternatives)
                      + r")(?![\w'’]))+[\s,]*", re.I)


def without_fillers(text: str) -> str:
    """`text` without the adverbs and politeness that open it ("afterwards train it" → "train it")."""
    return _fillers().sub("", text)


@lru_cache(maxsize=1)
def _embedded() -> re.Pattern:
    asking = "|".join(re.escape(w) for w in words()["asking_verbs"])
    subjects = "|".join(re.escape(w) for w in sorted(words()["subjects"], key=len, reverse=True))
    return re.compile(rf"\b({asking})\s+(what|who|where|when|why|how(?:\s+(?:long|big|many|much|old|large)\b)?|which\s+\w+)"
                      rf"\s+({subjects})\s+(is|are|was|were)\b", re.I)


def expand_contractions(text: str) -> str:
    """"what's said" → "what is said": one spelling for the cues to meet (never a possessive: "Pip's");
    then an embedded question in the direct question's order ("tell me how long it is" → "… how long is it")."""
    for pattern, full in words()["contractions"].items():
        text = re.sub(pattern, full, text, flags=re.I)
    text = _embedded().sub(lambda m: f"{m.group(1)} {m.group(2)} {m.group(4)} {m.group(3)}", text)
    return _embedded_do().sub(_do_support, text)


@lru_cache(maxsize=1)
def _embedded_do() -> re.Pattern:
    asking = "|".join(re.escape(w) for w in words()["asking_verbs"])
    subjects = "|".join(re.escape(w) for w in sorted(words()["subjects"], key=len, reverse=True) if w != "there")
    return re.compile(rf"\b({asking})\s+(what|who|where|when|why|how|which\s+\w+)\s+({subjects})\s+"
                      rf"(?!(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|not)\b)([a-z]+)\b", re.I)


def _do_support(m: re.Match) -> str:
    """"tell me what they say" → "tell me what do they say"; "… what he says" → "… what does he say"."""
    subject, verb = m.group(3), m.group(4)
    if subject.lower() in words()["plural_subjects"]:
        return f"{m.group(1)} {m.group(2)} do {subject} {verb}"
    base = verb[:-3] + "y" if verb.endswith("ies") else verb[:-2] if verb.endswith(("ches", "shes", "sses", "xes")) \
        else verb[:-1] if verb.endswith("s") and not verb.endswith("ss") else verb
    return f"{m.group(1)} {m.group(2)} does {subject} {base}"


@lru_cache(maxsize=1)
def _kind_phrase() -> tuple[re.Pattern, re.Pattern]:
    article = "|".join(re.escape(w) for w in words()["indefinite_articles"])
    there = "|".join(re.escape(w) for w in words()["existential"])
    return (re.compile(rf"(?<![\w'’])(?:{article})\s+(?:[\w-]+\s+){{0,2}}$", re.I),
            re.compile(rf"(?<![\w'’])(?:{there})(?![\w'’])", re.I))


def names_a_kind(text: str, at: int) -> bool:
    """Is the word at `at` inside an indefinite noun phrase that is not said to exist or be had ("a
    parody" in "what makes a parody funny?", not "an audio track" in "is there an audio track?")?"""
    article, there = _kind_phrase()
    before = text[:at]
    return article.search(before[-60:]) is not None and there.search(before) is None


@lru_cache(maxsize=2)
def _dative(english: bool) -> re.Pattern:
    found = words()["datives"]["en"] + ([] if english else words()["datives"]["it"])
    return re.compile(r"(?<![\w'’])(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in found) + r")\s+$", re.I)


def addressed_person(text: str, at: int, english: bool = False) -> bool:
    """Is the word at `at` a person the request addresses, not a thing: written as a name (a capital, then
    small letters: not "LoRA") right after a dative ("falla leggere al Narratore", "give it to the Narrator")?"""
    word = re.match(r"[\w'’-]+", text[at:])
    if not word or not word.group(0)[:1].isupper() or not word.group(0)[1:].islower():
        return False
    return _dative(english).search(text[max(0, at - 20):at]) is not None


@dataclass
class Parts:
    head: str  # what to make
    purpose: str  # what it is for ("" when the request does not say)
    deliverables: list[str]  # the head split into the deliverables it asks for (one, mostly)


def split_purpose(request: str) -> tuple[str, str]:
    m = _purpose().search(request)
    if m is None or m.start() == 0:
        return request, ""
    return request[: m.start()].rstrip(" ,;"), request[m.start():]


def split_deliverables(head: str, opens_with_verb, english: bool = False) -> list[str]:
    """`head` cut at each coordinator whose next words open with a verb (`opens_with_verb(text)`), and at
    each conjunction whose next words open a question; adverbs and politeness between the coordinator
    and that verb or question word do not count ("and afterwards train it")."""
    parts, start = [], 0
    for m in _coordinator().finditer(head):
        rest = without_fillers(head[m.end():])
        asks = _conjunction().search(m.group(0)) is not None and opens_question(rest, english)
        if m.start() > start and rest and (opens_with_verb(rest) or asks):
            parts.append(head[start:m.start()])
            start = m.end()
    parts.append(head[start:])
    parts = [without_fillers(p).strip(" ,;.") for p in parts]
    return [p for p in parts if p]


def read_parts(request: str, opens_with_verb, english: bool = False) -> Parts:
    head, purpose = split_purpose(request)
    return Parts(head=head, purpose=purpose, deliverables=split_deliverables(head, opens_with_verb, english))


def function_words() -> set[str]:
    return set(words()["function_words"])


def light_verbs() -> list[str]:
    return list(words()["light_verbs"])


def imperative_words() -> list[str]:
    return list(words()["imperatives"])
