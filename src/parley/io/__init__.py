"""Human input and output streams.

Every human-input request and every printed line goes through the current ``IOStream``. The
console is the default; tests and UIs set another (``IOStream.set_default(stream)`` as a context
manager, or ``IOStream.set_global_default``). A stream may also offer ``async a_input`` for
UIs that answer without blocking the event loop.
"""

from __future__ import annotations

import contextvars
import getpass
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class IOStream(Protocol):
    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None: ...

    def input(self, prompt: str = "", *, password: bool = False) -> str: ...


class IOConsole:
    """The terminal: ``print`` and ``input``."""

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        print(*objects, sep=sep, end=end, flush=flush)

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        if password:
            return getpass.getpass(prompt if prompt else "Password: ")
        return input(prompt)


class IOQueue:
    """A stream fed by a list of answers, recording what was printed and asked (tests, scripts).

    When the answers run out, ``input`` raises ``EOFError`` (as a closed terminal does).
    """

    def __init__(self, answers: Iterable[str] = ()) -> None:
        self.answers: deque[str] = deque(answers)
        self.prompts: list[str] = []
        self.printed: list[str] = []

    def print(self, *objects: Any, sep: str = " ", end: str = "\n", flush: bool = False) -> None:
        self.printed.append(sep.join(str(o) for o in objects) + end)

    def input(self, prompt: str = "", *, password: bool = False) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError("IOQueue has no more answers")
        return self.answers.popleft()

    @property
    def output(self) -> str:
        return "".join(self.printed)


_global_default: IOStream = IOConsole()
_current: contextvars.ContextVar[IOStream | None] = contextvars.ContextVar("parley_iostream", default=None)


def get_default() -> IOStream:
    stream = _current.get()
    return stream if stream is not None else _global_default


def set_global_default(stream: IOStream) -> None:
    global _global_default
    _global_default = stream


@contextmanager
def set_default(stream: IOStream) -> Iterator[IOStream]:
    token = _current.set(stream)
    try:
        yield stream
    finally:
        _current.reset(token)


# Classic spelling: ``IOStream.get_default()`` etc. live on the protocol class too.
IOStream.get_default = staticmethod(get_default)  # type: ignore[attr-defined]
IOStream.set_global_default = staticmethod(set_global_default)  # type: ignore[attr-defined]
IOStream.set_default = staticmethod(set_default)  # type: ignore[attr-defined]


def __getattr__(name: str) -> Any:
    # The WebSocket stream loads its library only when asked for.
    if name == "IOWebsockets":
        from .websockets import IOWebsockets

        return IOWebsockets
    raise AttributeError(f"module 'parley.io' has no attribute {name!r}")
