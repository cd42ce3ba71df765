"""OpenAI and OpenAI-compatible servers (Ollama, vLLM, llama.cpp server, LM Studio, DeepSeek,
Groq, Together, ...) and Azure OpenAI, through the official ``openai`` SDK's async client.

One SDK client (so one HTTP connection pool) per endpoint, key and event loop: every agent and
every chat on a loop that talks to the same endpoint shares it. The SDK's own retries are off;
:class:`~parley.models.retry.RetryingClient` does retries the same way for every provider.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import weakref
from typing import Any

from .protocol import ModelError, ModelRequest, ModelResponse
from .retry import model_error_from_sdk

# event loop -> {endpoint identity -> SDK client}; a loop's clients go when the loop does.
_sdk_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, Any]]" = weakref.WeakKeyDictionary()
_accepted_params: frozenset[str] | None = None


def secret_digest(secret: str | None) -> str:
    """A short digest that tells keys apart without holding them (pool keys, never logged)."""
    return hashlib.sha256((secret or "").encode()).hexdigest()[:16]


def shared_sdk_client(identity: tuple, factory: Any) -> Any:
    """The SDK client for ``identity`` on the running loop, made by ``factory()`` on first use."""
    loop = asyncio.get_running_loop()
    clients = _sdk_clients.get(loop)
    if clients is None:
        clients = _sdk_clients[loop] = {}
    client = clients.get(identity)
    if client is None:
        client = clients[identity] = factory()
    return client


def _create_params() -> frozenset[str]:
    """Keyword arguments ``chat.completions.create`` takes; others go through ``extra_body``."""
    global _accepted_params
    if _accepted_params is None:
        from openai.resources.chat.completions import AsyncCompletions

        _accepted_params = frozenset(inspect.signature(AsyncCompletions.create).parameters) - {"self", "messages", "model", "stream"}
    return _accepted_params


def split_params(params: dict, accepted: frozenset[str]) -> tuple[dict, dict]:
    """``(keyword arguments the SDK accepts, the rest for extra_body)``."""
    known: dict = {}
    extra: dict = {}
    for key, value in params.items():
        (known if key in accepted else extra)[key] = value
    return known, extra


def _tool_call_dict(tool_call: Any) -> dict:
    return {
        "id": tool_call.id,
        "type": "function",
        "function": {"name": tool_call.function.name, "arguments": tool_call.function.arguments},
    }


class OpenAIClient:
    """A model at an OpenAI-compatible endpoint (``azure=True``: an Azure OpenAI deployment)."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None = None,
        azure: bool = False,
        api_version: str | None = None,
        organization: str | None = None,
        default_headers: dict | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.azure = azure
        self.api_version = api_version
        self.organization = organization
        self.default_headers = dict(default_headers or {})
        self._api_key = api_key
        self._identity = (
            "azure" if azure else "openai", base_url, api_version, organization, secret_digest(api_key),
            secret_digest(repr(sorted(self.default_headers.items()))),
        )
        self.where = f"{'azure' if azure else 'openai'} model {model!r} at {base_url or 'https://api.openai.com/v1'}"

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIClient({self.where})"

    def _new_sdk_client(self) -> Any:
        import openai

        common = dict(api_key=self._api_key, max_retries=0, default_headers=self.default_headers or None)
        if self.azure:
            return openai.AsyncAzureOpenAI(azure_endpoint=self.base_url, api_version=self.api_version, **common)
        return openai.AsyncOpenAI(base_url=self.base_url, organization=self.organization, **common)

    def sdk_client(self) -> Any:
        return shared_sdk_client(self._identity, self._new_sdk_client)

    async def create(self, request: ModelRequest) -> ModelResponse:
        known, extra = split_params(request.params, _create_params())
        kwargs: dict[str, Any] = {"model": self.model, "messages": request.messages, **known}
        if request.tools:
            kwargs["tools"] = request.tools
        if request.response_format:
            kwargs["response_format"] = request.response_format
        if extra:
            kwargs["extra_body"] = {**kwargs.get("extra_body", {}), **extra}
        client = self.sdk_client()
        try:
            if request.stream:
                return await self._create_streaming(client, kwargs, request)
            completion = await client.chat.completions.create(**kwargs)
            return self._response(completion)
        except ModelError:
            raise
        except Exception as error:
            raise model_error_from_sdk(error, where=self.where, secrets=(self._api_key,)) from None

    def _check_finish(self, finish_reason: str | None) -> None:
        if finish_reason == "content_filter":
            raise ModelError(f"{self.where}: the reply was withheld by the provider's content filter (not retried)")

    def _response(self, completion: Any) -> ModelResponse:
        if not getattr(completion, "choices", None):
            raise model_error_from_sdk(ValueError("the response has no choices"), where=self.where)
        choice = completion.choices[0]
        self._check_finish(choice.finish_reason)
        message: dict[str, Any] = {"role": "assistant", "content": choice.message.content}
        if choice.message.tool_calls:
            message["tool_calls"] = [_tool_call_dict(tc) for tc in choice.message.tool_calls]
        if getattr(choice.message, "function_call", None):
            function_call = choice.message.function_call
            message["function_call"] = {"name": function_call.name, "arguments": function_call.arguments}
        usage = completion.usage
        return ModelResponse(
            message=message,
            model=completion.model or self.model,
            prompt_tokens=(usage.prompt_tokens or 0) if usage else 0,
            completion_tokens=(usage.completion_tokens or 0) if usage else 0,
            raw=completion,
        )

    async def _create_streaming(self, client: Any, kwargs: dict, request: ModelRequest) -> ModelResponse:
        kwargs.setdefault("stream_options", {"include_usage": True})
        stream = await client.chat.completions.create(stream=True, **kwargs)
        pieces: list[str] = []
        tool_calls: dict[int, dict] = {}
        finish_reason = None
        model = self.model
        prompt_tokens = completion_tokens = 0
        async for chunk in stream:
            model = chunk.model or model
            if chunk.usage:
                prompt_tokens = chunk.usage.prompt_tokens or 0
                completion_tokens = chunk.usage.completion_tokens or 0
            for choice in chunk.choices[:1]:
                delta = choice.delta
                if delta.content:
                    pieces.append(delta.content)
                    if request.on_token is not None:
                        request.on_token(delta.content)
                for part in delta.tool_calls or ():
                    call = tool_calls.setdefault(part.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
                    if part.id:
                        call["id"] = part.id
                    if part.function is not None:
                        call["function"]["name"] += part.function.name or ""
                        call["function"]["arguments"] += part.function.arguments or ""
                finish_reason = choice.finish_reason or finish_reason
        if finish_reason is None:
            # The server closed the stream without finishing the reply.
            raise model_error_from_sdk(ConnectionError("the stream ended before the reply was finished"), where=self.where)
        self._check_finish(finish_reason)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(pieces) if pieces or not tool_calls else None}
        if tool_calls:
            message["tool_calls"] = [tool_calls[i] for i in sorted(tool_calls)]
        return ModelResponse(message=message, model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
