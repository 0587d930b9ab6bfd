"""The agent's prompts (agent/prompts.yaml), rendered by the one prompt mechanism (tools/core/prompts.py)."""
from __future__ import annotations

from tools.core.prompts import PromptBook

prompt = PromptBook.beside(__file__)
