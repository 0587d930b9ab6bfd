"""Text hygiene: what reaches the voice."""
from __future__ import annotations

import pytest

from tools.audio.text import clean_for_speech, split_sentences


@pytest.mark.parametrize("raw, spoken", [
    ("PIP: Hello there! (laughs) I'm *sighs* so tired. [beat] Really?", "Hello there! I'm so tired. Really?"),
    ("<i>Whispers</i> &amp; more 🐟🦀✨", "Whispers and more"),
    ("**Look** at   this\nboat!!!", "Look at this boat!"),
    ("Captain Brine: 50% of the fish = mine.", "50 percent of the fish equals mine."),
    ("Visit https://example.com/x now", "Visit now"),
    ("The gull filed a complaint: too few chips.", "The gull filed a complaint: too few chips."),
    ("(laughing [softly]) Okay.", "Okay."),
    ("Ça va? ¡Sí!", "Ça va? ¡Sí!"),
    ("(laughs) 🐟 [beat]", ""),
])
def test_clean_for_speech(raw, spoken):
    assert clean_for_speech(raw) == spoken


def test_split_sentences_respects_abbreviations_and_quotes():
    text = 'Arr. Dr. Brine said "Go." Then he left! Mr. Gull? Yes.'
    assert split_sentences(text) == ["Arr.", 'Dr. Brine said "Go."', "Then he left!", "Mr. Gull?", "Yes."]


def test_long_sentences_are_cut_at_commas_then_words():
    long = ", ".join(["the gull stole a chip"] * 20) + "."
    parts = split_sentences(long, max_chars=60)
    assert len(parts) > 5 and all(len(p) <= 60 for p in parts)
    assert " ".join(parts).replace(" ", "") == long.replace(" ", "")
    words = split_sentences("x" * 10 + " " + "y" * 10, max_chars=12)
    assert words == ["x" * 10, "y" * 10]
