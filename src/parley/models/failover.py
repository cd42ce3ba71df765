"""Failover across a config list: a wrapper around one model client per entry.

:class:`FailoverClient` asks its clients in order: when one raises, the next is asked (after a
warning notice), and the last error is raised when all fail. Classic's ``filter_func`` is the
optional ``accept``: a reply it refuses is passed over for the next client's, but the last
client's is returned whatever it is. :class:`EntryClient` lays one entry's generation
parameters under a request's, so each client of the list gets its own entry's settings.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from .. import events
from .protocol import ModelClient, ModelRequest, ModelResponse
from .stream import StreamedReply


class EntryClient:
    """``client`` with a config entry's generation ``params`` (temperature, ...) under each
    request's own: the request's win."""

    __slots__ = ("client", "params")

    def __init__(self, client: ModelClient, params: dict) -> None:
        self.client = client
        self.params = params

    def create(self, request: ModelRequest) -> Coroutine[Any, Any, ModelResponse]:
        # A plain function handing back the client's coroutine: no coroutine of its own per call.
        params = {**self.params, **request.params} if request.params else self.params
        return self.client.create(ModelRequest(
            request.messages, request.tools, request.response_format, params, request.stream, request.on_token,
            request.functions, request.agent, request.purpose,
        ))


class FailoverClient:
    """Asks ``clients`` in order until one answers (``models`` name them in the notices)."""

    __slots__ = ("clients", "models")

    def __init__(self, clients: Sequence[ModelClient], models: Sequence[str]) -> None:
        if not clients or len(clients) != len(models):
            raise ValueError("FailoverClient needs at least one client, and one model name per client")
        self.clients = list(clients)
        self.models = list(models)

    async def create(self, request: ModelRequest) -> ModelResponse:
        return (await self.first_accepted(request))[1]

    async def first_accepted(
        self, request: ModelRequest, accept: Callable[[ModelResponse], bool] | None = None,
    ) -> tuple[int, ModelResponse]:
        """The index of the client whose reply is returned, and the reply."""
        last_error: Exception | None = None
        last = len(self.clients) - 1
        for i, client in enumerate(self.clients):
            try:
                response = await client.create(request)
            except Exception as error:  # failover: try the next entry
                last_error = error
                if i < last:
                    events.emit(events.Notice(
                        text=f"model {self.models[i]!r} failed ({type(error).__name__}); trying the next config entry",
                        level="warning",
                    ))
                    if isinstance(request.on_token, StreamedReply):
                        request.on_token.restart()  # the next entry streams the reply from its start
                continue
            if accept is None or accept(response) or i == last:  # the last reply is judged too: its verdict is kept
                return i, response
        assert last_error is not None
        raise last_error
