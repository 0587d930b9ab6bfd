"""Knowledge base (chromadb + sentence-transformers) and web search behind small interfaces."""
from rag.types import Evidence, Retriever, WebSearcher

__all__ = ["Evidence", "Retriever", "WebSearcher", "open_knowledge_base", "open_web_search"]


def open_knowledge_base(settings):
    """The configured knowledge base (see rag/knowledge_base.py)."""
    from rag.knowledge_base import open_knowledge_base as _open

    return _open(settings)


def open_web_search(settings):
    """The configured web searcher (see rag/web.py)."""
    from rag.web import open_web_search as _open

    return _open(settings)
