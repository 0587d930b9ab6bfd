"""Tools: the framework in `tools.core`, and the tool families beside it.

Families: media/ video/ audio/ image/ dataset/ quality/ parody/ — each module of a family package
holds tools only and is registered by discovery (`tools.core.registry`).
"""
