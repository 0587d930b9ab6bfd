"""Knowledge base (chromadb + sentence-transformers + BM25) and web search behind small interfaces.

Factories used by the agent's retrieve/web nodes: `open_knowledge_base(settings)` and
`open_web_search(settings)`. See docs/knowledge.md.
"""
from rag.types import Evidence, Retriever, WebSearcher
from rag.untrusted import format_evidence, quote_untrusted

__all__ = [
    "Evidence",
    "Retriever",
    "WebSearcher",
    "format_evidence",
    "open_knowledge_base",
    "open_web_search",
    "quote_untrusted",
]


def open_knowledge_base(settings, embedder=None):
    """The configured KnowledgeBase under settings.rag.persist_dir (see rag/knowledge_base.py)."""
    from rag.knowledge_base import open_knowledge_base as _open

    return _open(settings, embedder=embedder)


def open_web_search(settings, **overrides):
    """The configured WebSearch (see rag/web.py); never raises when searching."""
    from rag.web import open_web_search as _open

    return _open(settings, **overrides)
