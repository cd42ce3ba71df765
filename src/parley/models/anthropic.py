"""Anthropic models: plain and streamed calls over the shared aiohttp pool of
:mod:`parley.models.openai_http` (the request the SDK would send, its events read as the SDK reads
them, without its per-call CPU and without importing it), what that path does not cover through
the official ``anthropic`` SDK's async client.

Agents speak OpenAI-shaped messages; the Messages API wants a separate system prompt, strictly
alternating user/assistant turns that start with the user, and tool calls as ``tool_use`` /
``tool_result`` content blocks. :func:`to_anthropic_messages` converts one way and
:class:`AnthropicClient` converts replies back, so a group chat (several "user" messages in a row,
each from another agent) and tool use work unchanged.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import sys
from contextlib import aclosing
from pathlib import Path
from typing import Any

from .content_parts import anthropic_image_block
from .openai import (
    aiohttp_pool,
    call_secrets,
    endpoint_settings,
    request_body,
    secret_digest,
    shared_sdk_client,
)
from .openai_http import (
    LeanEndpoint,
    LeanTransportError,
    error_answer,
    fields,
    loads,
    new_session,
    plain_timeout,
    post_chat_completion,
    post_event_stream,
    sdk_env_modes,
    transport_module,
    warm_imports,
)
from .protocol import ModelError, ModelRequest, ModelResponse
from .retry import TransientModelError, model_error_from_sdk
from .secrets import config_secrets, guard_sdk_logs, redact, redact_url, remember

DEFAULT_MAX_TOKENS = 4096
# Filler turns where the API needs a user turn the conversation does not have.
_START_TURN = "Begin."
_CONTINUE_TURN = "Please continue."


def _text_blocks(content: Any) -> list[dict]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[dict] = []
    for part in content:
        if isinstance(part, str):
            part = {"type": "text", "text": part}
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            blocks.append(anthropic_image_block(part))
        else:
            raise ModelError(f"anthropic: unsupported content part type {kind!r}")
    return blocks


def _tool_input(arguments: str) -> dict:
    """A tool call's JSON arguments as the dict Anthropic wants; invalid JSON is kept as text."""
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"arguments": value}


def to_anthropic_messages(messages: list[dict]) -> tuple[str, list[dict]]:
    """``(system prompt, alternating turns)`` from OpenAI-shaped messages.

    Leading system messages form the system prompt; a later one (a group chat's speaker-selection
    prompt) stays in place as user text. Consecutive turns of one role merge; tool results lead
    their user turn, as the API requires.
    """
    system_parts: list[str] = []
    turns: list[dict] = []
    leading = True
    for message in messages:
        role = message.get("role", "user")
        if role == "system" and leading:
            blocks = _text_blocks(message.get("content"))
            if any(b["type"] == "image" for b in blocks):
                # The system prompt takes only text: an image there would be lost without a word.
                raise ModelError("anthropic: the system message has an image, and Anthropic's system prompt takes "
                                 "only text: put the image in a user message")
            system_parts.extend(b["text"] for b in blocks)
            continue
        leading = False
        if role == "assistant":
            turn_role = "assistant"
            blocks = _text_blocks(message.get("content"))
            for call in message.get("tool_calls") or ():
                function = call["function"]
                blocks.append({"type": "tool_use", "id": call["id"], "name": function["name"],
                               "input": _tool_input(function.get("arguments"))})
        elif role == "tool":
            turn_role = "user"
            blocks = [{"type": "tool_result", "tool_use_id": message["tool_call_id"],
                       "content": str(message.get("content") or "")}]
        else:  # user, system after the start, function results
            turn_role = "user"
            blocks = _text_blocks(message.get("content"))
        if not blocks:
            continue
        if turns and turns[-1]["role"] == turn_role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": turn_role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")  # stable
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": [{"type": "text", "text": _START_TURN}]})
    if turns[-1]["role"] != "user":
        # A trailing assistant turn would be taken as a prefix to continue, not a turn to answer.
        turns.append({"role": "user", "content": [{"type": "text", "text": _CONTINUE_TURN}]})
    return "\n\n".join(system_parts), turns


def to_anthropic_tools(tools: list[dict]) -> list[dict]:
    converted = []
    for tool in tools:
        function = tool.get("function", tool)
        converted.append({
            "name": function["name"],
            "description": function.get("description", ""),
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        })
    return converted


def _tool_choice(choice: Any) -> dict:
    if isinstance(choice, dict):
        return {"type": "tool", "name": choice["function"]["name"]}
    return {"auto": {"type": "auto"}, "none": {"type": "none"}, "required": {"type": "any"}}[choice]


# The environment variables of the anthropic SDK that this path reproduces; any other ANTHROPIC_*
# one (an auth token, custom headers, profiles, federation) makes the SDK send.
_KNOWN_ANTHROPIC_ENV = frozenset({"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL"})


_api_version: str | None = None


def sdk_api_version() -> str:
    """The ``anthropic-version`` the installed SDK sends (``anthropic._constants.ANTHROPIC_API_VERSION``),
    read from the SDK's source while the SDK is not imported: importing it for one constant adds
    ~160,000 objects that every full garbage collection then scans, a third to a half of a lean
    request's CPU at 1,000 concurrent requests (docs/bench/models.md). The SDK is still imported
    to build the exception for an error answer."""
    global _api_version
    if _api_version is None:
        if "anthropic._constants" not in sys.modules:
            _api_version = _api_version_in_source()
        if _api_version is None:  # imported already, or no readable source (a zipped install)
            from anthropic._constants import ANTHROPIC_API_VERSION

            _api_version = ANTHROPIC_API_VERSION
    return _api_version


def _api_version_in_source() -> str | None:
    spec = importlib.util.find_spec("anthropic")  # finds the package without running it
    for folder in (spec.submodule_search_locations or ()) if spec is not None else ():
        try:
            tree = ast.parse(Path(folder, "_constants.py").read_text("utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in tree.body:
            target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else getattr(node, "target", None)
            value = getattr(node, "value", None)
            if (isinstance(target, ast.Name) and target.id == "ANTHROPIC_API_VERSION"
                    and isinstance(value, ast.Constant) and isinstance(value.value, str)):
                return value.value
    return None


class _AnthropicEndpoint(LeanEndpoint):
    """The Messages endpoint; its ``anthropic-version`` header is the installed SDK's, added on the
    first request (see :func:`sdk_api_version`)."""

    __slots__ = ()

    def with_version(self) -> LeanEndpoint:
        if "anthropic-version" not in self.headers:
            self.headers = {"anthropic-version": sdk_api_version(), **self.headers}
        return self


def _lean_endpoint(api_key: str, base_url: str | None, headers: dict, default_query: dict | None) -> _AnthropicEndpoint | None:
    """The request settings the SDK would use, or None where the SDK must send (see openai_http)."""
    if not api_key or sdk_env_modes() or importlib.util.find_spec("aiohttp") is None:
        return None
    if any(name.startswith("ANTHROPIC_") and name not in _KNOWN_ANTHROPIC_ENV for name in os.environ):
        return None
    root = base_url or os.environ.get("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"
    sent = {"accept": "application/json", "content-type": "application/json", "x-api-key": api_key}
    sent.update({str(name).lower(): str(value) for name, value in headers.items() if value is not None})
    query = {str(name): str(value) for name, value in (default_query or {}).items()}
    return _AnthropicEndpoint(f"{root.rstrip('/')}/v1/messages", query, sent)


def _status_error(status: int, headers: Any, raw: bytes, url: str) -> Exception:
    """The anthropic SDK's exception for an HTTP error answer, built by the SDK's own function."""
    from anthropic._error_classes import make_status_error

    message, body, response = error_answer(status, headers, raw, url)
    return make_status_error(message, body=body, response=response)


def _stream_error(data: str, url: str) -> Exception:
    """The SDK's exception for an ``error`` event inside a stream, made as the SDK's stream makes
    it: the event's JSON (else its text) as the body, the class picked by the stream's status (200)
    and the error's type, which gives ``APIStatusError`` for the errors the API sends mid-stream."""
    from anthropic._error_classes import make_status_error

    httpx_module = transport_module()
    body: Any = data
    try:
        body = json.loads(data)
        message = f"{body}"
    except ValueError:
        message = data or "Error code: 200"
    response = httpx_module.Response(200, request=httpx_module.Request("POST", url))
    return make_status_error(message, body=body, response=response)


class AnthropicClient:
    """A Claude model (or any endpoint speaking the Anthropic Messages API)."""

    def __init__(
        self, *, model: str, api_key: str, base_url: str | None = None, default_headers: dict | None = None,
        default_query: dict | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.default_headers = dict(default_headers or {})
        self._api_key = api_key
        # Every secret this client holds, handed to redaction: error texts and logs never show them.
        self._base_url, self._headers, self._default_query = endpoint_settings(base_url, self.default_headers, default_query)
        self._secrets = remember(config_secrets(
            {"api_key": api_key, "base_url": base_url, "default_headers": self._headers, "default_query": default_query}))
        self._identity = ("anthropic", base_url, secret_digest(api_key),
                          secret_digest(repr(sorted(self.default_headers.items()))),
                          secret_digest(repr(sorted((default_query or {}).items()))))
        self.where = f"anthropic model {model!r} at {redact_url(base_url) or 'https://api.anthropic.com'}"
        self._lean = _lean_endpoint(api_key, self._base_url, self._headers, self._default_query)
        warm_imports(sdk=self._lean is None, sdk_module="anthropic")

    def __repr__(self) -> str:  # never show the key
        return f"AnthropicClient({self.where})"

    def _new_sdk_client(self) -> Any:
        import anthropic

        client = anthropic.AsyncAnthropic(
            api_key=self._api_key, base_url=self._base_url, max_retries=0, default_headers=self._headers or None,
            default_query=self._default_query, http_client=aiohttp_pool(anthropic),
        )
        guard_sdk_logs()
        return client

    def request_body(self, request: ModelRequest) -> tuple[dict, dict]:
        """``(JSON body, SDK request options)``; sent with ``client.post`` as in the openai module."""
        system, messages = to_anthropic_messages(request.messages)
        params = dict(request.params)
        params.pop("seed", None)  # Anthropic's API has no sampling seed (classic's client did not send one either)
        params.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
        if params.get("max_tokens") is None:
            params["max_tokens"] = DEFAULT_MAX_TOKENS
        if "stop" in params:
            stop = params.pop("stop")
            params["stop_sequences"] = [stop] if isinstance(stop, str) else stop
        if "tool_choice" in params:
            params["tool_choice"] = _tool_choice(params["tool_choice"])
        if request.response_format:
            # The Messages API has no response_format: ask for it in the system prompt.
            schema = request.response_format.get("json_schema", {}).get("schema")
            matching = f" matching this JSON schema: {json.dumps(schema)}" if schema else ""
            instruction = f"Reply with a single JSON object{matching}, nothing else."
            system = f"{system}\n\n{instruction}" if system else instruction
        fields, options = request_body(params)
        body: dict[str, Any] = {**fields, "model": self.model, "messages": messages}
        if system:
            body["system"] = system
        if request.tools:
            body["tools"] = to_anthropic_tools(request.tools)
        return body, options

    async def create(self, request: ModelRequest) -> ModelResponse:
        body, options = self.request_body(request)
        secrets = self._secrets + call_secrets(request.params) if options else self._secrets
        if self._lean is not None and plain_timeout(options):
            try:
                session = await shared_sdk_client(("aiohttp", *self._identity), new_session)
                endpoint = self._lean.with_version()
                if request.stream:
                    async with aclosing(self._lean_events(session, endpoint, body, options)) as events:
                        return await self._fold_events(events, request)
                reply = await post_chat_completion(session, endpoint, body, options, errors=_status_error)
                return self._lean_response(reply)
            except ModelError:
                raise
            except LeanTransportError as error:
                raise TransientModelError(f"{self.where}: {error.kind}: {redact(str(error), secrets)}") from None
            except Exception as error:
                raise model_error_from_sdk(error, where=self.where, secrets=secrets) from None
        return await self._create_with_sdk(request, body, options, secrets)

    @staticmethod
    async def _lean_events(session: Any, endpoint: LeanEndpoint, body: dict, options: dict) -> Any:
        """The stream's events as the SDK's stream gives them (``ping`` and unnamed events skipped,
        an ``error`` event raised as the SDK's exception), each a :class:`~.openai_http.Fields`
        read like the SDK's typed event."""
        stream = post_event_stream(session, endpoint, {**body, "stream": True}, options, errors=_status_error)
        async with aclosing(stream) as events:
            async for kind, data in events:
                if kind is None or kind == "ping":
                    continue
                if kind == "error":
                    raise _stream_error(data, endpoint.url)
                if data:
                    yield fields(loads(data))

    def _lean_response(self, reply: Any) -> ModelResponse:
        """The reply in a Messages API JSON object (kept as ``raw``)."""
        if not isinstance(reply, dict) or not isinstance(reply.get("content"), list):
            raise ValueError(f"not a message: {str(reply)[:200]}")
        self._check_stop(reply.get("stop_reason"))
        texts: list[str] = []
        tool_calls: list[dict] = []
        for block in reply["content"]:
            if block.get("type") == "text":
                texts.append(block["text"])
            elif block.get("type") == "tool_use":
                tool_calls.append({"id": block["id"], "type": "function",
                                   "function": {"name": block["name"], "arguments": json.dumps(block.get("input") or {})}})
        usage = reply.get("usage") or {}
        return ModelResponse(
            message=self._message(texts, tool_calls),
            model=reply.get("model") or self.model,
            prompt_tokens=usage.get("input_tokens") or 0,
            completion_tokens=usage.get("output_tokens") or 0,
            raw=reply,
        )

    async def _create_with_sdk(self, request: ModelRequest, body: dict, options: dict, secrets: tuple) -> ModelResponse:
        from anthropic.types import Message

        client = await shared_sdk_client(self._identity, self._new_sdk_client)
        try:
            if request.stream:
                return await self._create_streaming(client, body, options, request)
            reply = await client.post("/v1/messages", body=body, options=options, cast_to=Message)
        except ModelError:
            raise
        except Exception as error:
            raise model_error_from_sdk(error, where=self.where, secrets=secrets) from None
        self._check_stop(reply.stop_reason)
        texts: list[str] = []
        tool_calls: list[dict] = []
        for block in reply.content:
            if block.type == "text":
                texts.append(block.text)
            elif block.type == "tool_use":
                tool_calls.append({"id": block.id, "type": "function",
                                   "function": {"name": block.name, "arguments": json.dumps(block.input)}})
        return ModelResponse(
            message=self._message(texts, tool_calls),
            model=reply.model or self.model,
            prompt_tokens=reply.usage.input_tokens or 0,
            completion_tokens=reply.usage.output_tokens or 0,
            raw=reply,
        )

    def _check_stop(self, stop_reason: str | None) -> None:
        if stop_reason == "refusal":
            raise ModelError(f"{self.where}: the model refused to answer (not retried)")

    @staticmethod
    def _message(texts: list[str], tool_calls: list[dict]) -> dict:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not tool_calls else None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        return message

    async def _create_streaming(self, client: Any, body: dict, options: dict, request: ModelRequest) -> ModelResponse:
        from anthropic import AsyncStream
        from anthropic.types import Message, RawMessageStreamEvent

        stream = await client.post(
            "/v1/messages", body={**body, "stream": True}, options=options, cast_to=Message, stream=True,
            stream_cls=AsyncStream[RawMessageStreamEvent],
        )
        return await self._fold_events(stream, request)

    async def _fold_events(self, stream: Any, request: ModelRequest) -> ModelResponse:
        """The reply folded from a stream's events (the SDK's typed ones or :class:`~.openai_http.Fields`)."""
        texts: list[str] = []
        tools: dict[int, dict] = {}
        partial_json: dict[int, list[str]] = {}
        model = self.model
        prompt_tokens = completion_tokens = 0
        stop_reason = None
        finished = False
        async for event in stream:
            kind = event.type
            if kind == "message_start":
                model = event.message.model or model
                prompt_tokens = event.message.usage.input_tokens or 0
            elif kind == "content_block_start" and event.content_block.type == "tool_use":
                tools[event.index] = {"id": event.content_block.id, "type": "function",
                                      "function": {"name": event.content_block.name, "arguments": ""}}
                partial_json[event.index] = []
            elif kind == "content_block_delta":
                if event.delta.type == "text_delta":
                    texts.append(event.delta.text)
                    if request.on_token is not None:
                        request.on_token(event.delta.text)
                elif event.delta.type == "input_json_delta":
                    partial_json[event.index].append(event.delta.partial_json)
            elif kind == "message_delta":
                stop_reason = event.delta.stop_reason or stop_reason
                completion_tokens = event.usage.output_tokens or completion_tokens
            elif kind == "message_stop":
                finished = True
        if not finished:
            raise model_error_from_sdk(ConnectionError("the stream ended before the reply was finished"), where=self.where)
        self._check_stop(stop_reason)
        for index, call in tools.items():
            # Re-serialise so the arguments read exactly as in a non-streamed reply.
            call["function"]["arguments"] = json.dumps(json.loads("".join(partial_json[index]) or "{}"))
        tool_calls = [tools[i] for i in sorted(tools)]
        return ModelResponse(message=self._message(texts, tool_calls), model=model, prompt_tokens=prompt_tokens,
                             completion_tokens=completion_tokens)
