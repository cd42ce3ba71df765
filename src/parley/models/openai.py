"""OpenAI and OpenAI-compatible servers (Ollama, vLLM, llama.cpp server, LM Studio, DeepSeek,
Groq, Together, ...) and Azure OpenAI, through the official ``openai`` SDK's async client.

One SDK client (so one HTTP connection pool) per endpoint, key and event loop: every agent and
every chat on a loop that talks to the same endpoint shares it. The SDK's own retries are off;
:class:`~parley.models.retry.RetryingClient` does retries the same way for every provider.

Speed (100 concurrent chats must take well under a second): the pool uses the SDK's aiohttp
transport (``DefaultAioHttpClient``, which the SDK recommends for concurrency) when aiohttp is
installed, and requests go through the SDK's documented ``client.post(path, body=...)`` rather
than ``chat.completions.create``: same auth, errors and streaming, without the per-call recursive
transform of the typed parameters (our messages are already plain JSON) nor pydantic models of
the reply, which together cost more CPU than everything else in a chat turn (docs/bench/models.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from typing import Any

from .protocol import ModelError, ModelRequest, ModelResponse
from .retry import model_error_from_sdk

# event loop -> its SDK clients by endpoint identity; a loop's clients go when the loop does.
_sdk_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients]" = weakref.WeakKeyDictionary()


class _LoopClients(dict):
    """The SDK clients of one event loop, closed when the loop shuts down.

    asyncio offers no "loop closing" callback, but ``asyncio.run`` (and pytest's runners) finalise
    the loop's async generators before closing it: a parked generator per loop is that hook.
    """

    async def _close_at_shutdown(self) -> Any:
        try:
            yield
        finally:
            for client in self.values():
                await client.close()
            self.clear()

    async def start(self) -> None:
        self._keeper = self._close_at_shutdown()
        await self._keeper.__anext__()


def secret_digest(secret: str | None) -> str:
    """A short digest that tells keys apart without holding them (pool keys, never logged)."""
    return hashlib.sha256((secret or "").encode()).hexdigest()[:16]


async def shared_sdk_client(identity: tuple, factory: Any) -> Any:
    """The SDK client for ``identity`` on the running loop, made by ``factory()`` on first use."""
    loop = asyncio.get_running_loop()
    clients = _sdk_clients.get(loop)
    if clients is None:
        clients = _sdk_clients[loop] = _LoopClients()
        await clients.start()
    client = clients.get(identity)
    if client is None:
        client = clients[identity] = factory()
    return client


def aiohttp_pool(sdk: Any) -> Any:
    """The SDK's aiohttp-backed HTTP client if aiohttp is installed, else None (the SDK's httpx pool)."""
    factory = getattr(sdk, "DefaultAioHttpClient", None)
    if factory is None:
        return None
    try:
        return factory()
    except RuntimeError:  # the SDK says aiohttp is missing
        return None


def request_body(params: dict) -> tuple[dict, dict]:
    """``(JSON body fields, SDK request options)`` from generation params: every param is sent
    (providers and compatible servers accept their own extras), ``timeout`` is a request option
    and None means "not given"."""
    body = {k: v for k, v in params.items() if v is not None and k != "timeout"}
    options = {"timeout": params["timeout"]} if params.get("timeout") is not None else {}
    return body, options


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

        common = dict(api_key=self._api_key, max_retries=0, default_headers=self.default_headers or None, http_client=aiohttp_pool(openai))
        if self.azure:
            return openai.AsyncAzureOpenAI(azure_endpoint=self.base_url, api_version=self.api_version, **common)
        return openai.AsyncOpenAI(base_url=self.base_url, organization=self.organization, **common)

    async def sdk_client(self) -> Any:
        return await shared_sdk_client(self._identity, self._new_sdk_client)

    async def create(self, request: ModelRequest) -> ModelResponse:
        params, options = request_body(request.params)
        body: dict[str, Any] = {**params, "model": self.model, "messages": request.messages}
        if request.tools:
            body["tools"] = request.tools
        if request.response_format:
            body["response_format"] = request.response_format
        client = await self.sdk_client()
        try:
            if request.stream:
                return await self._create_streaming(client, body, options, request)
            # cast_to=object: the JSON as is; building the typed ChatCompletion costs a fifth of a call's CPU.
            completion = await client.post("/chat/completions", body=body, options=options, cast_to=object)
            return self._response(completion)
        except ModelError:
            raise
        except Exception as error:
            raise model_error_from_sdk(error, where=self.where, secrets=(self._api_key,)) from None

    def _check_finish(self, finish_reason: str | None) -> None:
        if finish_reason == "content_filter":
            raise ModelError(f"{self.where}: the reply was withheld by the provider's content filter (not retried)")

    def _response(self, completion: Any) -> ModelResponse:
        """The reply in a chat-completion JSON object (kept as ``raw``)."""
        try:
            choice = completion["choices"][0]
            reply = choice["message"]
        except (TypeError, KeyError, IndexError):
            raise model_error_from_sdk(ValueError(f"not a chat completion: {str(completion)[:200]}"), where=self.where) from None
        self._check_finish(choice.get("finish_reason"))
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
        if reply.get("tool_calls"):
            message["tool_calls"] = [
                {"id": call.get("id"), "type": "function", "function": {"name": call["function"]["name"], "arguments": call["function"].get("arguments") or ""}}
                for call in reply["tool_calls"]
            ]
        if reply.get("function_call"):
            message["function_call"] = {"name": reply["function_call"]["name"], "arguments": reply["function_call"].get("arguments") or ""}
        usage = completion.get("usage") or {}
        return ModelResponse(
            message=message,
            model=completion.get("model") or self.model,
            prompt_tokens=usage.get("prompt_tokens") or 0,
            completion_tokens=usage.get("completion_tokens") or 0,
            raw=completion,
        )

    async def _create_streaming(self, client: Any, body: dict, options: dict, request: ModelRequest) -> ModelResponse:
        from openai import AsyncStream
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        body = {**body, "stream": True}
        body.setdefault("stream_options", {"include_usage": True})
        stream = await client.post(
            "/chat/completions", body=body, options=options, cast_to=ChatCompletion, stream=True, stream_cls=AsyncStream[ChatCompletionChunk]
        )
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
