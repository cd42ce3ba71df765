"""The classic custom-client protocol (``model_client_cls`` + ``register_model_client``).

A classic client has ``create(params)`` returning an object with ``.choices[i].message`` and
``.model``, ``message_retrieval(response)``, ``cost(response)`` and a static
``get_usage(response)``. This adapter makes one a :class:`ModelClient`.
"""

from __future__ import annotations

import inspect
from typing import Any

from .protocol import ModelRequest, ModelResponse


def message_from_completion(item: Any) -> dict:
    """A retrieved completion (str, dict or a message object) as an assistant message dict."""
    if isinstance(item, str) or item is None:
        return {"role": "assistant", "content": item}
    if isinstance(item, dict):
        message = dict(item)
    elif hasattr(item, "model_dump"):
        message = item.model_dump(exclude_none=True)
    else:
        message = {k: getattr(item, k) for k in ("content", "tool_calls", "function_call") if getattr(item, k, None) is not None}
    message["role"] = "assistant"
    message.setdefault("content", None)
    if message.get("tool_calls"):
        message["tool_calls"] = [tc if isinstance(tc, dict) else _tool_call_dict(tc) for tc in message["tool_calls"]]
    else:
        message.pop("tool_calls", None)
    return message


def _tool_call_dict(tool_call: Any) -> dict:
    if hasattr(tool_call, "model_dump"):
        return tool_call.model_dump()
    function = tool_call.function
    return {
        "id": tool_call.id,
        "type": "function",
        "function": {"name": function.name, "arguments": function.arguments},
    }


class ClassicClientAdapter:
    """Wraps an instance of a user's classic client class."""

    def __init__(self, client: Any, config: dict) -> None:
        for method in ("create", "message_retrieval", "cost", "get_usage"):
            if not callable(getattr(client, method, None)):
                raise TypeError(f"model client class {type(client).__name__} has no method {method!r} (classic protocol)")
        self.client = client
        # The config entry is passed to create() as the base of params, as classic does.
        self.base_params = {k: v for k, v in config.items() if k not in ("model_client_cls", "api_key")}
        self._create_is_async = inspect.iscoroutinefunction(client.create)

    async def create(self, request: ModelRequest) -> ModelResponse:
        params = dict(self.base_params)
        if request.params:
            params.update(request.params)
        params["messages"] = request.messages
        if request.functions:  # classic passes the legacy schemas as they were given
            params["functions"] = request.functions
            tools = request.tools_besides_functions()
            if tools:
                params["tools"] = tools
        elif request.tools:
            params["tools"] = request.tools
        if request.response_format:
            params["response_format"] = request.response_format
        response = self.client.create(params)
        if self._create_is_async:
            response = await response
        retrieved = self.client.message_retrieval(response)
        message = message_from_completion(retrieved[0] if retrieved else None)
        usage = self.client.get_usage(response) or {}
        cost = self.client.cost(response) or 0.0
        # Positional (keywords cost twice as much on this per-call path): message, model, prompt
        # and completion tokens, cost, cached, raw.
        return ModelResponse(
            message,
            usage.get("model") or getattr(response, "model", None) or params.get("model", ""),
            usage.get("prompt_tokens") or 0,
            usage.get("completion_tokens") or 0,
            cost,
            False,
            response,
            # Several choices (``n``): each retrieved one, the first being ``message``.
            [message, *(message_from_completion(r) for r in retrieved[1:])] if len(retrieved) > 1 else None,
        )
