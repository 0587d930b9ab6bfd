"""English function words: the words a text needs for grammar, not for what it is about.

One list for every place that compares texts by their content words (keyword search, scene search,
the comedy check's echoes)."""
from __future__ import annotations

FUNCTION_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "do", "does", "did", "for", "from", "has", "have",
    "how", "i", "in", "is", "it", "its", "of", "on", "or", "so", "that", "the", "their", "them", "there",
    "they", "this", "these", "those", "to", "was", "were", "what", "when", "where", "which", "who", "why",
    "will", "with", "you", "your", "me", "my", "he", "she", "him", "her", "his", "we", "us", "our", "oh", "ah",
    "well", "just", "very", "am"
})
