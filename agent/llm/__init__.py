"""LLM backends: local (embedded GGUF), openai (any compatible endpoint), fake (scripted)."""
