"""Shared machinery of the fake model servers: an aiohttp app on 127.0.0.1 in a background
thread (or run as its own process for benchmarks), a script of replies and faults consumed
one per request, and a record of every request received."""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import threading
from typing import Any, Callable

from aiohttp import web


class FakeServer:
    """Subclasses add routes in ``routes()`` and answer with ``await self.next_action(body)``.

    A script action is a dict; the keys every server understands:

    - ``status`` (int), ``retry_after`` (str), ``error`` (message): answer with that HTTP error;
      ``echo``: its message also quotes the request's path, query string and headers, as some
      gateways and debugging proxies do (the worst case for keys in error texts);
    - ``delay`` (seconds): wait that long before answering (then answer per the other keys);
    - ``drop``: close the connection (mid-stream for a streamed request, after one chunk);
    - ``malformed``: a 200 whose body is not JSON.

    The reply keys (``content``, ``tool_calls``, ...) are per server. When the script is empty
    the server answers with ``default`` (an action, or a function of the request body).
    """

    def __init__(self, *, delay: float = 0.0, default: dict | Callable[[dict], dict] | None = None) -> None:
        self.delay = delay
        self.default = self.initial_default = default or {"content": "Hello from the fake server."}
        self.script: collections.deque[dict] = collections.deque()
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.paths: list[str] = []  # each request's path and query string
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # --- what tests use -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        raise NotImplementedError

    def add(self, *actions: dict) -> None:
        self.script.extend(actions)

    def reset(self) -> None:
        self.default = self.initial_default
        self.script.clear()
        self.requests.clear()
        self.headers.clear()
        self.paths.clear()

    # --- serving ----------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(self.routes())
        return app

    async def serve(self, port: int = 0) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port, backlog=4096)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def start(self) -> "FakeServer":
        """Serve from a background thread until :meth:`stop`."""
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.serve())
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())  # type: ignore[union-attr]
            self._loop.close()

        self._thread = threading.Thread(target=run, name=type(self).__name__, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    async def next_action(self, request: web.Request) -> tuple[dict, dict]:
        """Record the request and return ``(its JSON body, the action to answer with)``."""
        body = await request.json()
        self.requests.append(body)
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        self.paths.append(request.path_qs)
        if self.script:
            action = self.script.popleft()
        else:
            action = self.default(body) if callable(self.default) else self.default
        delay = action.get("delay", self.delay)
        if delay:
            await asyncio.sleep(delay)
        return body, action

    @staticmethod
    def fault(request: web.Request, action: dict) -> web.StreamResponse | None:
        """The response for a fault action, or None for a normal reply."""
        if "status" in action:
            headers = {"Retry-After": str(action["retry_after"])} if "retry_after" in action else {}
            message = action.get("error", f"injected HTTP {action['status']}")
            if action.get("echo"):
                message += f" (request: {request.method} {request.path_qs} headers={dict(request.headers)})"
            return web.json_response(
                {"error": {"message": message, "type": "injected"}},
                status=action["status"], headers=headers,
            )
        if action.get("malformed"):
            return web.Response(text='{"id": "x", "choices": [', content_type="application/json")
        if action.get("drop") and request.transport is not None:
            request.transport.abort()
            return web.Response()
        return None

    @staticmethod
    async def write_sse(response: web.StreamResponse, data: Any, event: str | None = None) -> None:
        prefix = f"event: {event}\n" if event else ""
        payload = data if isinstance(data, str) else json.dumps(data)
        await response.write(f"{prefix}data: {payload}\n\n".encode())


def serve_from_command_line(server_class: type, description: str) -> None:
    """Run a fake server in its own process (benchmarks keep its CPU out of theirs): prints
    ``PORT n`` once it listens, then serves until killed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--content", default="Hello from the fake server.")
    args = parser.parse_args()
    server = server_class(delay=args.delay, default={"content": args.content})

    async def run() -> None:
        await server.serve(args.port)
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())
