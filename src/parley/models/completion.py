"""The classic response of ``OpenAIWrapper.create``: a ChatCompletion-shaped object.

Classic code reads ``response.choices[0].message.content``, ``response.usage.total_tokens``,
``response.cost`` and ``response.model``, and calls ``extract_text_or_completion_object``; these
pydantic models give that shape for every provider (the engine's own ``ModelResponse`` is simpler).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

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
    """One completion in the OpenAI shape, with its ``cost`` (as classic AutoGen adds it)."""

    object: str = "chat.completion"
    model: str = ""
    choices: list[Choice]
    usage: Usage
    cost: float = 0.0
    cached: bool = False


def to_chat_completion(response: ModelResponse) -> ChatCompletion:
    message = CompletionMessage.model_validate(response.message)
    finish = "tool_calls" if message.tool_calls else "function_call" if message.function_call else "stop"
    return ChatCompletion(
        model=response.model,
        choices=[Choice(message=message, finish_reason=finish)],
        usage=Usage(prompt_tokens=response.prompt_tokens, completion_tokens=response.completion_tokens,
                    total_tokens=response.total_tokens),
        cost=response.cost,
        cached=response.cached,
    )


def extract_text_or_completion_object(response: ChatCompletion) -> list:
    """Each choice's text, or its message object when it calls tools or a function (classic)."""
    return [choice.message if choice.message.tool_calls or choice.message.function_call else choice.message.content
            for choice in response.choices]
