"""Escaping for values inside an ffmpeg filter graph.

A filter graph parses option values twice: the graph parser (which treats `[ ] , ;` as syntax) and
then the filter's option parser (which splits on `:` and `=`). Both honour backslash escapes, so
escaping each level's specials makes any text or path safe — spaces, quotes, colons, unicode.
"""
from __future__ import annotations

import re

_OPTION = re.compile(r"([\\':=])")
_GRAPH = re.compile(r"([\\'\[\],;])")


def esc(value: object) -> str:
    """A value safe to place after `key=` inside a filter graph (script file or -filter_complex)."""
    return _GRAPH.sub(r"\\\1", _OPTION.sub(r"\\\1", str(value)))
