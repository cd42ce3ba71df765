"""OpenAI and OpenAI-compatible servers (Ollama, vLLM, llama.cpp server, LM Studio, DeepSeek,
Groq, Together, ...) and Azure OpenAI.

Requests go the lean way (:mod:`parley.models.openai_http`: built directly, sent over one aiohttp
session per endpoint, key and event loop, shared by every agent and chat on that loop), which
costs a fraction of the SDK's CPU per call; the official ``openai`` SDK's async client sends what
that path does not cover (proxies or SDK-only settings in the environment, non-numeric timeouts,
no aiohttp), through its documented ``client.post(path, body=...)`` with its aiohttp transport.
Either way the SDK's retries are off: :class:`~parley.models.retry.RetryingClient` does retries
the same way for every provider, and errors are the SDK's exception types classified by
:func:`~parley.models.retry.model_error_from_sdk` (docs/bench/models.md has the numbers).
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import hashlib
import logging
import urllib.parse
import weakref
from typing import Any

from .openai_http import (
    LeanTransportError,
    lean_endpoint,
    new_session,
    plain_timeout,
    post_chat_completion,
    stream_chat_completion,
    warm_imports,
)
from .protocol import ModelError, ModelRequest, ModelResponse
from .retry import TransientModelError, model_error_from_sdk
from .secrets import config_secrets, guard_sdk_logs, redact, redact_url, remember

# event loop -> its SDK clients by endpoint identity; a loop's clients go when the loop does.
_sdk_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClients] = weakref.WeakKeyDictionary()


class _LoopClients(dict):
    """The SDK clients of one event loop, closed when the loop shuts down.

    asyncio offers no "loop closing" callback, but ``asyncio.run`` (and pytest's runners) finalise
    the loop's async generators before closing it: a parked generator per loop is that hook. Loops
    still open at exit (the sync facade keeps one per thread for the process's life) are closed by
    :func:`_close_at_exit`; an SDK's aiohttp session left open warns "Unclosed client session".
    """

    async def _close_at_shutdown(self) -> Any:
        try:
            yield
        finally:
            clients = list(self.values())
            self.clear()
            for client in clients:
                await client.close()

    async def start(self) -> None:
        self._keeper = self._close_at_shutdown()
        await self._keeper.__anext__()

    async def close(self) -> None:
        await self._keeper.aclose()


def _close_at_exit() -> None:
    for loop, clients in list(_sdk_clients.items()):
        if clients and not loop.is_closed() and not loop.is_running():
            try:
                loop.run_until_complete(clients.close())
            except Exception:  # exiting anyway: a client that cannot close is no reason for a traceback
                logging.getLogger("parley").debug("closing the model SDK clients at exit failed", exc_info=True)


atexit.register(_close_at_exit)


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


# Classic call options that the SDK takes as request options, not as fields of the JSON body.
REQUEST_OPTIONS = frozenset({"timeout", "extra_headers", "extra_query", "extra_body"})


def request_body(params: dict) -> tuple[dict, dict]:
    """``(JSON body fields, SDK request options)`` from generation params: every param is sent
    (providers and compatible servers accept their own extras) except the SDK's request options,
    ``timeout``, ``extra_headers``, ``extra_query`` (as in the SDK's ``create``) and ``extra_body``
    (merged into the body); None means "not given"."""
    body = {k: v for k, v in params.items() if v is not None and k not in REQUEST_OPTIONS}
    options: dict[str, Any] = {}
    if params.get("timeout") is not None:
        options["timeout"] = params["timeout"]
    if params.get("extra_headers"):
        options["headers"] = params["extra_headers"]
    if params.get("extra_query"):
        options["params"] = params["extra_query"]
    if params.get("extra_body"):
        body.update(params["extra_body"])
    return body, options


def call_secrets(params: dict) -> tuple[str, ...]:
    """The secrets a call's own options carry (``extra_headers``, ``extra_query``), remembered for redaction."""
    if "extra_headers" not in params and "extra_query" not in params:
        return ()
    return remember(config_secrets(params))


def split_base_url(base_url: str | None, default_query: dict | None = None) -> tuple[str | None, dict | None, str | None]:
    """``(base_url without user-info and query string, that query and default_query as the SDK's
    default_query, the user-info as a Basic Authorization header)``. The SDKs append paths to
    base_url as text, which would put them inside its query string; and the aiohttp transport
    refuses credentials in a URL next to the SDK's own auth header, where httpx (classic's
    transport) sends them as Basic auth instead: so does this."""
    query = dict(default_query) if default_query else {}
    if not base_url or ("?" not in base_url and "@" not in base_url):
        return base_url, query or None, None
    parts = urllib.parse.urlsplit(base_url)
    query = {**dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)), **query}
    basic = None
    if parts.username is not None or parts.password is not None:
        user_pass = f"{urllib.parse.unquote(parts.username or '')}:{urllib.parse.unquote(parts.password or '')}"
        basic = "Basic " + base64.b64encode(user_pass.encode()).decode()
    netloc = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", parts.fragment)), query or None, basic


def endpoint_settings(
    base_url: str | None, default_headers: dict | None, default_query: dict | None
) -> tuple[str | None, dict, dict | None]:
    """``(base_url, default headers, default query)`` for an SDK client (see :func:`split_base_url`)."""
    url, query, basic = split_base_url(base_url, default_query)
    headers = dict(default_headers or {})
    if basic is not None and not any(name.lower() == "authorization" for name in headers):
        headers["Authorization"] = basic
    return url, headers, query


class _StreamedChoice:
    """One choice of a streamed completion, folded from its deltas."""

    __slots__ = ("finish_reason", "function_call", "pieces", "tool_calls")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.tool_calls: dict[int, dict] = {}
        self.function_call: dict[str, Any] | None = None  # the legacy ``functions`` API's single call
        self.finish_reason: str | None = None

    def add(self, choice: Any, on_token: Any) -> None:
        from .stream import update_dict_from_chunk

        delta = choice.delta
        if delta.content:
            self.pieces.append(delta.content)
            if on_token is not None:
                on_token(delta.content)
        for part in delta.tool_calls or ():
            call = self.tool_calls.setdefault(
                part.index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
            if part.id:
                call["id"] = part.id
            if part.function is not None:
                update_dict_from_chunk(part.function, call["function"], "name")
                update_dict_from_chunk(part.function, call["function"], "arguments")
        if delta.function_call is not None:
            self.function_call = self.function_call or {"name": "", "arguments": ""}
            update_dict_from_chunk(delta.function_call, self.function_call, "name")
            update_dict_from_chunk(delta.function_call, self.function_call, "arguments")
        self.finish_reason = choice.finish_reason or self.finish_reason

    def message(self) -> dict[str, Any]:
        calls = bool(self.tool_calls) or self.function_call is not None
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.pieces) if self.pieces or not calls else None}
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        if self.function_call is not None:
            message["function_call"] = self.function_call
        return message


def _assistant_message(reply: dict) -> dict[str, Any]:
    """A completion choice's message in parley's shape (only the fields a chat keeps)."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
    if reply.get("tool_calls"):
        message["tool_calls"] = [
            {"id": call.get("id"), "type": "function",
             "function": {"name": call["function"]["name"], "arguments": call["function"].get("arguments") or ""}}
            for call in reply["tool_calls"]
        ]
    if reply.get("function_call"):
        function_call = reply["function_call"]
        message["function_call"] = {"name": function_call["name"], "arguments": function_call.get("arguments") or ""}
    return message


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
        project: str | None = None,
        default_headers: dict | None = None,
        default_query: dict | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.azure = azure
        self.api_version = api_version
        self.organization = organization
        self.project = project
        self.default_headers = dict(default_headers or {})
        self._api_key = api_key
        # Every secret this client holds, handed to redaction: error texts and logs never show them.
        self._base_url, self._headers, self._default_query = endpoint_settings(base_url, self.default_headers, default_query)
        self._secrets = remember(config_secrets(
            {"api_key": api_key, "base_url": base_url, "default_headers": self._headers, "default_query": default_query}))
        self._identity = (
            "azure" if azure else "openai", base_url, api_version, organization, project, secret_digest(api_key),
            secret_digest(repr(sorted(self.default_headers.items()))), secret_digest(repr(sorted((default_query or {}).items()))),
        )
        self.where = f"{'azure' if azure else 'openai'} model {model!r} at {redact_url(base_url) or 'https://api.openai.com/v1'}"
        # Plain (not streamed) requests skip the SDK where they can: see openai_http.
        self._lean = lean_endpoint(
            model=model, api_key=api_key, base_url=self._base_url, azure=azure, api_version=api_version,
            organization=organization, project=project, headers=self._headers, default_query=self._default_query)
        warm_imports(sdk=self._lean is None)

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIClient({self.where})"

    def _new_sdk_client(self) -> Any:
        import openai

        common: dict[str, Any] = {
            "api_key": self._api_key, "max_retries": 0, "default_headers": self._headers or None,
            "default_query": self._default_query, "http_client": aiohttp_pool(openai),
        }
        client: Any
        if self.azure:
            if self._base_url is not None:  # else the SDK reads $AZURE_OPENAI_ENDPOINT
                common["azure_endpoint"] = self._base_url
            client = openai.AsyncAzureOpenAI(api_version=self.api_version, **common)
        else:
            client = openai.AsyncOpenAI(base_url=self._base_url, organization=self.organization, project=self.project, **common)
        guard_sdk_logs()
        return client

    async def sdk_client(self) -> Any:
        return await shared_sdk_client(self._identity, self._new_sdk_client)

    async def create(self, request: ModelRequest) -> ModelResponse:
        params, options = request_body(request.params)
        secrets = self._secrets + call_secrets(request.params) if options else self._secrets
        body: dict[str, Any] = {**params, "model": self.model, "messages": request.messages}
        if request.functions:
            # Classic's legacy API: sent as ``functions`` (the model answers with a function_call).
            body["functions"] = request.functions
            tools = request.tools_besides_functions()
            if tools:
                body["tools"] = tools
        elif request.tools:
            body["tools"] = request.tools
        if request.response_format:
            body["response_format"] = request.response_format
        if self._lean is not None and plain_timeout(options):
            try:
                session = await shared_sdk_client(("aiohttp", *self._identity), new_session)
                if request.stream:
                    chunks = stream_chat_completion(session, self._lean, self._streamed_body(body), options)
                    return await self._fold_stream(chunks, request)
                return self._response(await post_chat_completion(session, self._lean, body, options))
            except ModelError:
                raise
            except LeanTransportError as error:
                raise TransientModelError(f"{self.where}: {error.kind}: {redact(str(error), secrets)}") from None
            except Exception as error:
                raise model_error_from_sdk(error, where=self.where, secrets=secrets) from None
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
            raise model_error_from_sdk(error, where=self.where, secrets=secrets) from None

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
        message = _assistant_message(reply)
        choices = completion["choices"]
        usage = completion.get("usage") or {}
        return ModelResponse(
            message=message,
            model=completion.get("model") or self.model,
            prompt_tokens=usage.get("prompt_tokens") or 0,
            completion_tokens=usage.get("completion_tokens") or 0,
            raw=completion,
            # n > 1: every choice, in order (classic returns them all; agents reply with the first).
            choices=[message, *(_assistant_message(c.get("message") or {}) for c in choices[1:])] if len(choices) > 1 else None,
        )

    @staticmethod
    def _streamed_body(body: dict) -> dict:
        body = {**body, "stream": True}
        body.setdefault("stream_options", {"include_usage": True})
        return body

    async def _create_streaming(self, client: Any, body: dict, options: dict, request: ModelRequest) -> ModelResponse:
        from openai import AsyncStream
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        stream = await client.post(
            "/chat/completions", body=self._streamed_body(body), options=options, cast_to=ChatCompletion, stream=True,
            stream_cls=AsyncStream[ChatCompletionChunk],
        )
        return await self._fold_stream(stream, request)

    async def _fold_stream(self, stream: Any, request: ModelRequest) -> ModelResponse:
        """The reply folded from a stream of chunks (the SDK's typed ones or :class:`~.openai_http.Fields`)."""
        choices: dict[int, _StreamedChoice] = {}  # by choice index: several with ``n`` > 1
        model = self.model
        prompt_tokens = completion_tokens = 0
        async for chunk in stream:
            model = chunk.model or model
            if chunk.usage:
                prompt_tokens = chunk.usage.prompt_tokens or 0
                completion_tokens = chunk.usage.completion_tokens or 0
            for choice in chunk.choices:
                state = choices.get(choice.index)
                if state is None:
                    state = choices[choice.index] = _StreamedChoice()
                # Only the first choice is shown as it streams (classic showed every choice's text mixed).
                state.add(choice, request.on_token if choice.index == 0 else None)
        first = choices.get(0)
        if first is None or any(state.finish_reason is None for state in choices.values()):
            # The server closed the stream without finishing the reply.
            raise model_error_from_sdk(ConnectionError("the stream ended before the reply was finished"), where=self.where)
        self._check_finish(first.finish_reason)
        messages = [choices[i].message() for i in sorted(choices)]
        return ModelResponse(message=messages[0], model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                             choices=messages if len(messages) > 1 else None)
