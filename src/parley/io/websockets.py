"""Human input and output over a WebSocket: the classic way to put an agent behind a web page.

``IOWebsockets.run_server_in_thread(on_connect=f, port=8765)`` serves WebSocket connections
(through the ``websockets`` library: ``pip install 'parley[websockets]'``); for each client it
calls ``f(iostream)`` with that connection as the current IOStream, so every transcript line and
every human-input prompt of the chats ``f`` runs goes to that client, and its replies are the
human's answers.

    def on_connect(iostream):
        task = iostream.input()             # the client's first message
        user.initiate_chat(assistant, message=task)

    with IOWebsockets.run_server_in_thread(on_connect=on_connect, port=8765) as uri:
        ...  # a browser connects to uri
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import set_default

logger = logging.getLogger(__name__)


def _server_module() -> Any:
    try:
        from websockets.sync import server
    except ImportError:
        raise ImportError("IOWebsockets needs the 'websockets' package: pip install 'parley[websockets]'") from None
    return server


class IOWebsockets:
    """An IOStream over one WebSocket connection: ``print`` sends a text frame, ``input`` sends the
    prompt (if any) and waits for the client's next message."""

    def __init__(self, websocket: Any) -> None:
        self._websocket = websocket

    @property
    def websocket(self) -> Any:
        return self._websocket

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        self._websocket.send(sep.join(str(o) for o in objects) + end)

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        if prompt:
            self._websocket.send(prompt)
        message = self._websocket.recv()
        return message.decode("utf-8") if isinstance(message, bytes) else message

    @staticmethod
    @contextmanager
    def run_server_in_thread(
        *, host: str = "127.0.0.1", port: int = 8765, on_connect: Callable[[IOWebsockets], None],
        ssl_context: Any = None, **kwargs: Any,
    ) -> Iterator[str]:
        """Serve on ``host:port`` in a background thread; yields the server's ``ws://`` (or
        ``wss://`` with ``ssl_context``) URI and stops the server when the block ends."""
        if not callable(on_connect):
            raise TypeError("run_server_in_thread: on_connect must be a callable taking an IOWebsockets")
        server_module = _server_module()

        def handler(connection: Any) -> None:
            iostream = IOWebsockets(connection)
            try:
                with set_default(iostream):
                    on_connect(iostream)
            except Exception:  # a failing session must not take the server down
                logger.exception("IOWebsockets: on_connect failed")

        server = server_module.serve(handler, host, port, ssl=ssl_context, **kwargs)
        thread = threading.Thread(target=server.serve_forever, name=f"IOWebsockets {host}:{port}", daemon=True)
        thread.start()
        try:
            yield f"{'wss' if ssl_context else 'ws'}://{host}:{port}"
        finally:
            server.shutdown()
            thread.join()


__all__ = ["IOWebsockets"]
