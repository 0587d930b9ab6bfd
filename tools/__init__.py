"""Tools: the registry, ToolContext, scheduler and the tool families (dataset, image, audio, video, quality)."""
from tools.context import ToolContext, make_context
from tools.registry import InputPath, OutputPath, ToolOutcome, all_tools, get_tool, invoke, tool
from tools.types import Artifact, ToolError, ToolResult

__all__ = [
    "Artifact", "InputPath", "OutputPath", "ToolContext", "ToolError", "ToolOutcome", "ToolResult",
    "all_tools", "get_tool", "invoke", "make_context", "tool",
]
