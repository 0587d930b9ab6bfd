"""Text hygiene before TTS: what a voice should say, in sentence-sized pieces.

Scripts written for the screen carry things no voice should read aloud: markup, stage directions
((laughs), [beat], *sighs*), speaker labels, emoji. These are removed; long text is split into
sentences so every backend gets inputs it handles well and each sentence gets its own timing.
"""
from __future__ import annotations

import html
import re
import unicodedata

_TAGS = re.compile(r"<[^>]{1,200}>")
_STAGE = re.compile(r"\([^()]{0,80}\)|\[[^\[\]]{0,80}\]|\{[^{}]{0,80}\}")
_BOLD = re.compile(r"\*\*|__")
_EMPHASIS_ACTION = re.compile(r"(?<![\w*])\*[^*\n]{1,60}\*(?![\w*])")  # *sighs*: an action, not emphasis
_MD = re.compile(r"(`|~~|^#{1,6}\s+|^>\s+|^[-*+]\s+)", re.MULTILINE)
# "PIP: hello" / "Captain Brine: ..." / "Dr. Who: ...": a label is a name, every word capitalised; a
# sentence before a colon ("The octopus quit the band: ...") is said.
_SPEAKER = re.compile(r"^[ \t]*[A-Z][A-Za-z.'-]*(?: [A-Z][A-Za-z.'-]*){0,3}:\s+(?=\S)", re.MULTILINE)
_URL = re.compile(r"https?://\S+")
_SPACES = re.compile(r"[ \t\u00a0]+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)]*(\s+)(?=[\"'“‘(]?[A-Z0-9À-ÖØ-Þ¡¿])")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "capt", "prof", "sr", "jr", "vs", "etc", "e.g", "i.e", "mt"}
_REPEAT_PUNCT = re.compile(r"([!?.,])\1{2,}")

# Symbols a voice can say, mapped to words; every other symbol/emoji is dropped.
_SAY = {"&": " and ", "%": " percent", "+": " plus ", "=": " equals ", "@": " at ", "°": " degrees"}
_KEEP_PUNCT = set(".,!?;:'-\"…’‘“”()¡¿")


def _speakable_char(ch: str) -> str:
    if ch in _SAY:
        return _SAY[ch]
    cat = unicodedata.category(ch)
    if cat[0] in "LN" or ch in _KEEP_PUNCT or ch.isspace():
        return ch
    if cat in ("Pd",):  # dashes → a pause
        return ", "
    return " "  # emoji (So), symbols, control characters, private use


def clean_for_speech(text: str) -> str:
    """Strip markup, stage directions, speaker labels, URLs and emoji; keep words and punctuation."""
    text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = _TAGS.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _SPEAKER.sub("", text)
    for _ in range(2):  # nested directions such as "(laughing [softly])"
        text = _STAGE.sub(" ", text)
    text = _BOLD.sub("", text)  # **bold** is emphasis, said aloud; *sighs* alone is an action
    text = _EMPHASIS_ACTION.sub(" ", text)
    text = _MD.sub("", text)
    text = "".join(_speakable_char(ch) for ch in text)
    text = _REPEAT_PUNCT.sub(r"\1", text)
    text = re.sub(r"\s*\n\s*", " ", text)
    text = _SPACES.sub(" ", text)
    text = re.sub(r"\s+([,.!?;:…])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)  # ", ," left by removed pieces
    text = re.sub(r"^[\s,;:.]+", "", text)
    return text.strip()


def split_sentences(text: str, max_chars: int = 240) -> list[str]:
    """Sentences of the cleaned text; a sentence longer than max_chars is cut at commas, then words."""
    out: list[str] = []
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start:match.start()].split()
        if before and text[match.start()] == "." and before[-1].lower() in _ABBREVIATIONS:
            continue  # "Dr. Who" is one sentence
        sentences.append(text[start:match.start(1)])
        start = match.end(1)
    sentences.append(text[start:])
    for sentence in sentences:
        sentence = sentence.strip()
        if not sentence or not any(ch.isalnum() for ch in sentence):
            continue
        out.extend(_cut(sentence, max_chars))
    return out


def _cut(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for part in re.split(r"(?<=[,;:])\s+", sentence):
        words = part.split() if len(part) > max_chars else [part]
        for word in words:
            candidate = f"{current} {word}".strip()
            if len(candidate) > max_chars and current:
                pieces.append(current)
                current = word
            else:
                current = candidate
    if current:
        pieces.append(current)
    return pieces
