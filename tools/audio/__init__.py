"""Speech synthesis with character voices."""
