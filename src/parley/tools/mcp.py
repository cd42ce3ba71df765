"""The tools of an MCP server, as parley Tools, through the official ``mcp`` SDK.

``McpToolset`` starts (stdio) or connects to (streamable HTTP) one server and keeps its session
open until closed. The session lives on the toolset's own thread and event loop: MCP sessions are
bound to the loop that opened them, while a chat may run its tools on any loop (each sync
``initiate_chat`` runs its own), so every call hops to the session's loop and back. Closing stops
that loop, which ends the session and, for stdio, terminates and reaps the server process.

    with McpToolset(command="python", args=["server.py"]) as toolset:
        register_mcp_tools(toolset, caller=assistant, executor=user_proxy)
        user_proxy.initiate_chat(assistant, message="...")

The ``mcp`` package is imported on :meth:`McpToolset.start`, never by ``import parley``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import json
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from .tool import Tool, ToolError


class McpToolset:
    """The tools of one MCP server.

    Give either ``command`` (with ``args``, ``env``, ``cwd``: a server started as a subprocess,
    spoken to over stdio; its environment is the SDK's minimal default plus ``env``) or ``url``
    (a streamable-HTTP endpoint such as ``http://127.0.0.1:8000/mcp``, with optional ``headers``).
    ``tool_name_prefix`` is put before every tool name (to tell two servers' tools apart);
    ``timeout`` (seconds) bounds each tool call; ``startup_timeout`` bounds connecting.

    Use it as a context manager (``with`` or ``async with``) or call ``start()`` and ``close()``.
    """

    def __init__(
        self,
        command: str | None = None,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        *,
        url: str | None = None,
        headers: dict[str, str] | None = None,
        tool_name_prefix: str = "",
        timeout: float | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        if (command is None) == (url is None):
            raise ValueError("McpToolset: give exactly one of 'command' (a stdio server) or 'url' (an HTTP server)")
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"McpToolset: 'url' must be an http(s) URL, got {url!r}")
        if isinstance(args, str):
            raise TypeError("McpToolset: 'args' must be a list of strings, not a str")
        if command is None and (args or env or cwd):
            raise ValueError("McpToolset: 'args', 'env' and 'cwd' apply to a 'command', not to a 'url'")
        if url is None and headers:
            raise ValueError("McpToolset: 'headers' apply to a 'url', not to a 'command'")
        self.command = command
        self.args = list(args)
        self.env = env
        self.cwd = cwd
        self.url = url
        self.headers = headers
        self.tool_name_prefix = tool_name_prefix
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self._session: _Session | None = None
        self._tools: list[Tool] = []

    def __repr__(self) -> str:
        # Never shows env values or headers: they often hold secrets.
        return f"McpToolset({self._where()})"

    def _where(self) -> str:
        return f"url={self.url!r}" if self.url is not None else f"command={self.command!r}, args={self.args!r}"

    @property
    def tools(self) -> list[Tool]:
        """The server's tools; each ``.call`` forwards to the server."""
        if self._session is None:
            raise RuntimeError(f"{self!r} is not started: use 'with toolset:' or call toolset.start() first")
        return list(self._tools)

    def start(self) -> McpToolset:
        """Connect (starting the server process for stdio) and list the tools. Blocks until ready."""
        if self._session is not None:
            raise RuntimeError(f"{self!r} is already started")
        if importlib.util.find_spec("mcp") is None:
            raise ImportError("McpToolset needs the MCP SDK, which is not installed: pip install 'parley[mcp]'")
        session = _Session(self._connect_target)
        try:
            listed = session.start(self.startup_timeout)
        except BaseException as error:
            session.close()
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            raise RuntimeError(f"{self!r} could not connect to its MCP server: {type(error).__name__}: {error}") from error
        self._session = session
        # Closing at garbage collection or interpreter exit: a forgotten toolset leaves no process behind.
        self._finalizer = weakref.finalize(self, session.close)
        self._tools = [self._tool(listed_tool) for listed_tool in listed]
        return self

    def close(self) -> None:
        """End the session (and the server process, for stdio). Safe to call twice."""
        session, self._session = self._session, None
        self._tools = []
        if session is not None:
            self._finalizer.detach()
            session.close()

    def __enter__(self) -> McpToolset:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> McpToolset:
        # start() blocks on another thread's loop; keep this loop free meanwhile.
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.close)

    def _connect_target(self) -> Any:
        """What ``mcp.Client`` connects to; called on the session's thread."""
        from mcp import StdioServerParameters

        if self.command is not None:
            return StdioServerParameters(command=self.command, args=self.args, env=self.env, cwd=self.cwd)
        url = self.url
        if url is None:  # only if changed after __init__, which requires one of them
            raise ValueError("McpToolset: give exactly one of 'command' (a stdio server) or 'url' (an HTTP server)")
        if not self.headers:
            return url
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        return streamable_http_client(url, http_client=httpx2.AsyncClient(headers=self.headers))

    def _tool(self, listed: Any) -> Tool:
        server_name = listed.name

        # Holds the toolset, not just its session: a toolset whose tools are still registered on
        # an agent is never closed by garbage collection.
        async def call_server_tool(**arguments: Any) -> str:
            session = self._session
            if session is None:
                raise ToolError(f"the MCP session for tool '{server_name}' is closed")
            return _result_text(await session.call(server_name, arguments))

        call_server_tool.__name__ = server_name
        return Tool.from_schema(
            self.tool_name_prefix + server_name,
            listed.description,
            listed.input_schema,
            call_server_tool,
            timeout=self.timeout,
        )


class _Session:
    """An ``mcp.Client`` held open by a coroutine on a dedicated thread's event loop."""

    def __init__(self, connect_target: Any) -> None:
        self._connect_target = connect_target
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Any = None
        self._stop: asyncio.Event | None = None
        self._ready: concurrent.futures.Future = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, name="parley-mcp-session", daemon=True)
        self._closed = False
        self._ended = False

    def start(self, timeout: float) -> list:
        self._thread.start()
        try:
            return self._ready.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"no answer within {timeout:g} s") from None

    def _run(self) -> None:
        # asyncio.run cancels calls still in flight when the session ends, so none waits forever.
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            from mcp import Client

            target = self._connect_target()
            self._connect_target = None  # a bound method of the toolset: don't keep it alive
            async with Client(target) as client:
                tools: list = []
                cursor = None
                while True:
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        break
                self._client = client
                self._ready.set_result(tools)
                await self._stop.wait()
        except BaseException as error:
            if not self._ready.done():
                self._ready.set_exception(error)
            if not isinstance(error, Exception):
                raise
        finally:
            self._client = None
            self._ended = True
            if not self._ready.done():
                self._ready.set_exception(RuntimeError("the session ended before it was ready"))

    async def call(self, name: str, arguments: dict) -> Any:
        """Call a tool from any event loop; runs on the session's loop."""
        loop, client = self._loop, self._client
        if self._closed or loop is None or client is None or loop.is_closed():
            raise ToolError(f"the MCP session for tool '{name}' is closed")
        future = asyncio.run_coroutine_threadsafe(self._call_on_loop(client, name, arguments), loop)
        # Cancelling this await (a timeout) cancels the call on the session's loop too.
        return await asyncio.wrap_future(future)

    async def _call_on_loop(self, client: Any, name: str, arguments: dict) -> Any:
        try:
            return await client.call_tool(name, arguments)
        except asyncio.CancelledError:
            if self._ended:  # cancelled by the session ending, not by the caller
                raise ToolError(f"the MCP session ended during the call of tool '{name}'") from None
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed in the meantime (the server went away)
                pass
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


def _result_text(result: Any) -> str:
    """An MCP ``CallToolResult`` as the text of a tool message; an error result raises ToolError."""
    parts = []
    for block in result.content or ():
        kind = getattr(block, "type", None)
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"<{kind} {block.mime_type}>")
        elif kind == "resource":
            resource = block.resource
            parts.append(getattr(resource, "text", None) or f"<resource {resource.uri}>")
        elif kind == "resource_link":
            parts.append(f"<resource {block.uri}>")
        else:
            parts.append(f"<{kind}>")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    text = "\n".join(parts)
    if result.is_error:
        raise ToolError(text or "the MCP tool reported an error")
    return text


def register_mcp_tools(toolset: McpToolset, *, caller: Any, executor: Any) -> list[Tool]:
    """Show every tool of ``toolset`` to ``caller``'s model and let ``executor`` run them.

    Uses the agents' ``register_for_llm`` and ``register_for_execution`` decorators, which
    accept a prebuilt :class:`Tool`. Returns the tools registered.
    """
    tools = toolset.tools
    for tool in tools:
        caller.register_for_llm(name=tool.name, description=tool.description)(tool)
        executor.register_for_execution(name=tool.name)(tool)
    return tools
