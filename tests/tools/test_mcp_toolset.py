"""MCP: a real server (tests/tools/mcp_server.py, written with the mcp SDK) over stdio and HTTP."""

import asyncio
import gc
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("mcp")

from parley.tools import Tool, run_tool_calls  # noqa: E402
from parley.tools.mcp import McpToolset, register_mcp_tools  # noqa: E402

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def stdio_toolset(**kwargs) -> McpToolset:
    return McpToolset(command=sys.executable, args=[SERVER, "stdio"], **kwargs)


def process_gone(pid: int) -> bool:
    """Exited and reaped: a zombie still has its /proc entry."""
    return not os.path.exists(f"/proc/{pid}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def http_server():
    port = free_port()
    process = subprocess.Popen([sys.executable, SERVER, "http", str(port)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the MCP test server did not start")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/mcp"
    process.terminate()
    process.wait(10)


def by_name(toolset: McpToolset) -> dict[str, Tool]:
    return {tool.name: tool for tool in toolset.tools}


def check_tools(toolset: McpToolset) -> None:
    tools = by_name(toolset)
    assert set(tools) == {"add", "repeat", "server_pid", "explode", "nap"}
    add = tools["add"]
    assert add.description == "Add two integers."
    assert add.parameters["required"] == ["a", "b"]
    assert add.parameters["properties"]["a"]["description"] == "first addend"
    assert asyncio.run(add.call('{"a": 2, "b": 40}')) == "42"
    assert asyncio.run(tools["repeat"].call({"text": "ab"})) == "abab"
    # The server validates: its message reaches the model.
    invalid = asyncio.run(add.invoke({"a": "two", "b": 1}))
    assert not invalid.ok and invalid.content.startswith("Error:") and "valid integer" in invalid.content
    failed = asyncio.run(tools["explode"].invoke({"reason": "on purpose"}))
    assert not failed.ok and failed.content.startswith("Error:") and "exploded: on purpose" in failed.content


def test_stdio_tools_and_clean_shutdown():
    with stdio_toolset() as toolset:
        check_tools(toolset)
        pid = int(asyncio.run(by_name(toolset)["server_pid"].call({})))
        assert pid != os.getpid() and not process_gone(pid)
    assert process_gone(pid)
    assert not [t for t in threading.enumerate() if t.name == "parley-mcp-session"]
    with pytest.raises(RuntimeError, match="is not started"):
        toolset.tools


def test_tools_keep_their_toolset_alive_and_collection_closes_it():
    tools = stdio_toolset().start().tools  # the toolset itself is not referenced any more
    gc.collect()
    pid = int(asyncio.run({t.name: t for t in tools}["server_pid"].call({})))
    assert not process_gone(pid)
    del tools
    gc.collect()
    deadline = time.monotonic() + 10
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(pid)


def test_http_tools(http_server):
    with McpToolset(url=http_server) as toolset:
        check_tools(toolset)


def test_http_with_headers(http_server):
    with McpToolset(url=http_server, headers={"X-Test": "1"}) as toolset:
        assert asyncio.run(by_name(toolset)["add"].call({"a": 1, "b": 1})) == "2"


def test_async_context_manager_and_parallel_calls():
    """Calls from the chat's loop hop to the session's loop; parallel calls share the session."""

    async def main():
        async with stdio_toolset(tool_name_prefix="srv_") as toolset:
            functions = {tool.name: tool for tool in toolset.tools}
            assert "srv_add" in functions
            calls = [
                {"id": str(i), "function": {"name": "srv_add", "arguments": json.dumps({"a": i, "b": i})}}
                for i in range(5)
            ]
            return await run_tool_calls(calls, functions)

    answers = asyncio.run(main())
    assert [a["content"] for a in answers] == ["0", "2", "4", "6", "8"]


def test_timeout_of_a_server_tool():
    with stdio_toolset(timeout=0.3) as toolset:
        tools = by_name(toolset)
        outcome = asyncio.run(tools["nap"].invoke({"seconds": 1.5}))
        assert outcome.content == "Error: function 'nap' timed out after 0.3 s"
        # The session still works after an abandoned call.
        assert asyncio.run(tools["add"].call({"a": 1, "b": 2})) == "3"


def test_start_close_and_calls_after_close():
    toolset = stdio_toolset().start()
    add = by_name(toolset)["add"]
    pid = int(asyncio.run(by_name(toolset)["server_pid"].call({})))
    toolset.close()
    toolset.close()  # twice is fine
    assert process_gone(pid)
    outcome = asyncio.run(add.invoke({"a": 1, "b": 2}))
    assert not outcome.ok and "is closed" in outcome.content


def test_server_that_cannot_start():
    toolset = McpToolset(command=sys.executable, args=["-c", "import sys; sys.exit(3)"], startup_timeout=20)
    with pytest.raises(RuntimeError, match=r"could not connect to its MCP server"):
        toolset.start()


def test_without_the_mcp_sdk_start_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mcp", None)  # how the import system marks a module as unavailable
    with pytest.raises(ImportError, match=r"needs the MCP SDK, which is not installed: pip install 'parley\[mcp\]'"):
        stdio_toolset().start()


def test_bad_configuration():
    with pytest.raises(ValueError, match="exactly one of 'command'"):
        McpToolset()
    with pytest.raises(ValueError, match="exactly one of 'command'"):
        McpToolset(command="x", url="http://127.0.0.1:1/mcp")
    with pytest.raises(ValueError, match="'url' must be an http"):
        McpToolset(url="127.0.0.1:8000")
    with pytest.raises(TypeError, match="'args' must be a list"):
        McpToolset(command="python", args="server.py")
    with pytest.raises(ValueError, match="'headers' apply to a 'url'"):
        McpToolset(command="python", headers={"Authorization": "Bearer s3cret"})


def test_repr_hides_secrets():
    toolset = McpToolset(url="http://127.0.0.1:1/mcp", headers={"Authorization": "Bearer s3cret"})
    assert "s3cret" not in repr(toolset)
    toolset = McpToolset(command="server", env={"API_KEY": "s3cret"})
    assert "s3cret" not in repr(toolset)


class RecordingAgent:
    """Just the two decorators register_mcp_tools relies on, recording what they got."""

    def __init__(self):
        self.for_llm = []
        self.for_execution = []

    def register_for_llm(self, *, name=None, description=None):
        def decorator(func):
            self.for_llm.append((name, description, func))
            return func

        return decorator

    def register_for_execution(self, name=None):
        def decorator(func):
            self.for_execution.append((name, func))
            return func

        return decorator


def test_register_mcp_tools_uses_the_agent_decorators():
    caller, executor = RecordingAgent(), RecordingAgent()
    with stdio_toolset() as toolset:
        tools = register_mcp_tools(toolset, caller=caller, executor=executor)
    assert [name for name, _, _ in caller.for_llm] == [t.name for t in tools]
    assert all(isinstance(func, Tool) for _, _, func in caller.for_llm)
    assert ("add", "Add two integers.") in [(name, description) for name, description, _ in caller.for_llm]
    assert [name for name, _ in executor.for_execution] == [t.name for t in tools]
