"""The parody family: parody scripts (LLM + deterministic repair), voicing, assembly and scoring."""
