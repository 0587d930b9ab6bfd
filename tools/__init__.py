"""Tools: the framework in `tools.core`, and the tool families above it.

Families, top to bottom (the order is `tools/core/layers.py`; imports only go down it): the
composers parody/ and dataset/; video/, quality/ and image/; audio/; media/ (media files and the
vocabularies several families share); then core/. Every module of a family package is imported
by discovery (`tools.core.registry`), so its `@tool` functions register.
"""
