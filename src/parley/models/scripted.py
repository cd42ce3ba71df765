"""A scripted model: replays a list of replies or calls a function. A real library part, for
tests and demos (like pydantic-ai's TestModel/FunctionModel), and the model the demos fall
back to when asked for a deterministic run."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from .protocol import ModelRequest, ModelResponse


def _as_message(reply: Any) -> dict:
    if isinstance(reply, dict):
        message = dict(reply)
        message.setdefault("role", "assistant")
        message.setdefault("content", None)
        return message
    if isinstance(reply, str) or reply is None:
        return {"role": "assistant", "content": reply}
    raise TypeError(f"a scripted reply must be a str, a dict or None, not {type(reply).__name__}")


class ScriptedModelClient:
    """Replies from a script.

    ``replies`` is a list (replayed in order; when it runs out, the last reply repeats unless
    ``cycle`` is set, then it starts over) or a callable ``f(request) -> str | dict`` (sync or
    async). A dict reply may carry ``tool_calls``. Usage is counted in whitespace-separated words
    of the reply, or as given by ``usage=(prompt_tokens, completion_tokens)``; ``cost_per_call``
    sets the cost reported for each call.
    """

    def __init__(
        self,
        replies: Iterable[Any] | Callable[[ModelRequest], Any] = ("TERMINATE",),
        *,
        model: str = "scripted",
        cycle: bool = False,
        usage: tuple[int, int] | None = None,
        cost_per_call: float = 0.0,
    ) -> None:
        self._function: Callable[[ModelRequest], Any] | None
        if callable(replies):
            self._function = replies
            self._replies: list = []
        else:
            self._function = None
            self._replies = list(replies)
            if not self._replies:
                raise ValueError("ScriptedModelClient: 'replies' is empty")
        self.model = model
        self.cycle = cycle
        self.usage = usage
        self.cost_per_call = cost_per_call
        self.calls = 0
        self.requests: list[ModelRequest] = []
        self.keep_requests = False

    async def create(self, request: ModelRequest) -> ModelResponse:
        if self.keep_requests:
            self.requests.append(request)
        index = self.calls
        self.calls += 1
        if self._function is not None:
            reply = self._function(request)
            if inspect.isawaitable(reply):
                reply = await reply
        elif index < len(self._replies):
            reply = self._replies[index]
        elif self.cycle:
            reply = self._replies[index % len(self._replies)]
        else:
            reply = self._replies[-1]
        message = _as_message(reply)
        content = message.get("content")
        if request.stream and request.on_token is not None and isinstance(content, str):
            for piece in content.split(" "):
                request.on_token(piece + " ")
        if self.usage is not None:
            prompt_tokens, completion_tokens = self.usage
        else:
            prompt_tokens = 0
            completion_tokens = len(content.split()) if isinstance(content, str) else 0
        # Positional: message, model, prompt and completion tokens, cost (keywords cost twice as much).
        return ModelResponse(message, self.model, prompt_tokens, completion_tokens, self.cost_per_call)
