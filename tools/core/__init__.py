"""The tools' framework: registry, ToolContext, settings, workspace sandbox, trace, progress, scheduler.

The tool families (media/ video/ audio/ image/ dataset/ quality/ parody/) live above this package in
the order of `layers.py`; what they share comes from here or from `tools/media`.
"""
from tools.core.context import ToolContext, make_context
from tools.core.registry import InputPath, OutputPath, ToolOutcome, all_tools, get_tool, invoke, tool
from tools.core.types import Artifact, ToolError, ToolResult

__all__ = [
    "Artifact", "InputPath", "OutputPath", "ToolContext", "ToolError", "ToolOutcome", "ToolResult",
    "all_tools", "get_tool", "invoke", "make_context", "tool",
]
