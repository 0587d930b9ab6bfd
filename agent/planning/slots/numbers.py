"""Number words, English and Italian, 1–99: one table built from the units and tens in vocabulary.yaml
("thirteen", "twenty-two", "twenty two", "ventisette", "ventotto", "trentatré"), for lengths, counts
and times alike."""
from __future__ import annotations

from typing import Any


def _english(spec: dict[str, Any]) -> dict[str, int]:
    table = dict(spec["units"])
    for tens_word, tens in spec["tens"].items():
        table[tens_word] = tens
        for unit_word, unit in spec["units"].items():
            if unit < 10:
                table[f"{tens_word}-{unit_word}"] = table[f"{tens_word} {unit_word}"] = tens + unit
    return table


def _italian(spec: dict[str, Any]) -> dict[str, int]:
    table = dict(spec["units"])
    for tens_word, tens in spec["tens"].items():
        table[tens_word] = tens
        for unit_word, unit in spec["units"].items():
            if not 1 <= unit < 10 or unit_word in ("un", "una"):
                continue
            stem = tens_word[:-1] if unit_word[0] in "uo" else tens_word  # ventuno, ventotto
            table[stem + unit_word] = tens + unit
            if unit_word == "tre":
                table[stem + "tré"] = tens + unit
    return table


def number_table(spec: dict[str, Any]) -> dict[str, int]:
    """Every number word the spec makes, with its value; `other` adds words outside the pattern."""
    table = {**_english(spec["en"]), **_italian(spec["it"])}
    table.update(spec.get("other") or {})
    return table
