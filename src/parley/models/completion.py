"""The classic response of ``OpenAIWrapper.create``: a ChatCompletion-shaped object.

Classic code reads ``response.choices[0].message.content``, ``response.usage.total_tokens``,
``response.cost`` and ``response.model``, and calls ``extract_text_or_completion_object``; these
pydantic models give that shape for every provider (the engine's own ``ModelResponse`` is simpler).
With the openai SDK installed ``OpenAIWrapper.create`` returns the SDK's own
``openai.types.chat.ChatCompletion`` (``isinstance`` holds, as in classic); these models stand in
for it without the SDK. Either carries classic's extra attributes ``cost``, ``config_id`` (the
config-list entry that answered) and ``pass_filter`` (what ``filter_func`` said; True without one).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .protocol import ModelResponse


class Function(BaseModel):
    name: str
    arguments: str = ""


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = None
    type: str = "function"
    function: Function


class CompletionMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str = "assistant"
    content: Any = None
    tool_calls: list[ToolCall] | None = None
    function_call: Function | None = None


class Choice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: str = "stop"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    """One completion in the OpenAI shape, with classic's ``cost``, ``config_id`` and ``pass_filter``."""

    model_config = ConfigDict(extra="allow")

    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: list[Choice]
    usage: Usage
    cost: float = 0.0
    config_id: int | None = None
    pass_filter: bool = True
    cached: bool = False


def _provider_fields(raw: Any) -> tuple[str, int]:
    """The provider's completion ``id`` and ``created`` time, made up when it gave none (a
    cached reply, a provider without them)."""
    if isinstance(raw, dict):
        completion_id, created = raw.get("id"), raw.get("created")
    else:
        completion_id, created = getattr(raw, "id", None), getattr(raw, "created", None)
    if not isinstance(completion_id, str) or not completion_id:
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    if not isinstance(created, int) or isinstance(created, bool):
        created = int(time.time())
    return completion_id, created


def _sdk_completion(fields: dict) -> Any:
    """The openai SDK's ChatCompletion of ``fields``; None without the SDK, or when a custom
    client's reply falls outside the SDK's types (a tool call without an id, ...)."""
    try:
        from openai.types.chat import ChatCompletion as OpenAIChatCompletion
    except ImportError:
        return None
    try:
        return OpenAIChatCompletion.model_validate(fields)
    except ValidationError:
        return None


def _finish_reason(message: CompletionMessage) -> str:
    return "tool_calls" if message.tool_calls else "function_call" if message.function_call else "stop"


def to_chat_completion(response: ModelResponse, config_id: int | None = None, pass_filter: bool = True) -> Any:
    """``response`` as classic's ``OpenAIWrapper.create`` returns it: the openai SDK's
    ``ChatCompletion`` when the SDK is installed, else this module's stand-in."""
    messages = [CompletionMessage.model_validate(m) for m in (response.choices or [response.message])]
    choices = [Choice(index=i, message=message, finish_reason=_finish_reason(message)) for i, message in enumerate(messages)]
    completion_id, created = _provider_fields(response.raw)
    usage = {"prompt_tokens": response.prompt_tokens, "completion_tokens": response.completion_tokens,
             "total_tokens": response.total_tokens}
    completion = _sdk_completion({
        "id": completion_id, "object": "chat.completion", "created": created, "model": response.model,
        "choices": [{"index": c.index, "message": c.message.model_dump(exclude_none=True), "finish_reason": c.finish_reason,
                     "logprobs": None} for c in choices],
        "usage": usage,
    })
    if completion is None:
        return ChatCompletion(
            id=completion_id, created=created, model=response.model,
            choices=choices, usage=Usage(**usage),
            cost=response.cost, config_id=config_id, pass_filter=pass_filter, cached=response.cached,
        )
    # Classic sets these on the SDK's object (its models allow extra attributes).
    completion.cost = response.cost
    completion.config_id = config_id
    completion.pass_filter = pass_filter
    completion.cached = response.cached
    return completion


def extract_text_or_completion_object(response: ChatCompletion) -> list:
    """Each choice's text, or its message object when it calls tools or a function (classic)."""
    return [choice.message if choice.message.tool_calls or choice.message.function_call else choice.message.content
            for choice in response.choices]
