"""Tools: schemas from type hints, running the model's tool calls, MCP servers' tools.

Importing this package imports neither pydantic nor the MCP SDK; they load on first use.
"""

from .execution import as_tool, run_function_call, run_tool_calls
from .function_utils import get_function_schema
from .registration import register_function
from .tool import Tool, ToolError, ToolOutcome, serialize_result

__all__ = [
    "Tool",
    "ToolError",
    "ToolOutcome",
    "as_tool",
    "get_function_schema",
    "register_function",
    "run_function_call",
    "run_tool_calls",
    "serialize_result",
]


def __getattr__(name: str):  # the MCP names, without importing the SDK until asked
    if name in ("McpToolset", "register_mcp_tools"):
        from . import mcp

        return getattr(mcp, name)
    raise AttributeError(f"module 'parley.tools' has no attribute {name!r}")
