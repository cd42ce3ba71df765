"""A real MCP server for the tests, written with the official SDK.

    python mcp_server.py stdio
    python mcp_server.py http PORT      (streamable HTTP on 127.0.0.1:PORT/mcp)
"""

import os
import sys
import time
from typing import Annotated

from pydantic import Field

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("parley-test-server", log_level="ERROR")


@server.tool(description="Add two integers.")
def add(a: Annotated[int, Field(description="first addend")], b: int) -> int:
    return a + b


@server.tool(description="Repeat a text a number of times.")
def repeat(text: str, times: int = 2) -> str:
    return text * times


@server.tool(description="The process id of the server.")
def server_pid() -> int:
    return os.getpid()


@server.tool(description="Always fails.")
def explode(reason: str) -> str:
    raise ToolError(f"exploded: {reason}")


@server.tool(description="Sleep, then say how long.")
def nap(seconds: float) -> str:
    time.sleep(seconds)
    return f"slept {seconds}"


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
