"""The lean chat-completions request: straight over a shared aiohttp session, not through the SDK.

The ``openai`` SDK spends ~2 ms of CPU building each request (options models, URL parsing,
header merging, its transport adapter); a chat-completions call needs none of it. This module
sends the same request the SDK would (same URL, query, auth and organisation/project headers,
``extra_headers``/``extra_query``/``extra_body``, timeouts, streaming as server-sent events) with
one ``aiohttp`` call, and turns
an HTTP error into the SDK's own exception type (``openai.RateLimitError`` ...), which
:func:`~parley.models.retry.model_error_from_sdk` classifies, redacts and reads ``Retry-After`` from
as for the SDK's errors. The SDK stays in charge of what this does not cover (see
:func:`lean_endpoint`): proxies from the environment, the SDK's environment-driven
modes (custom headers, data residency, workload identity), non-numeric timeouts, no aiohttp.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from contextlib import aclosing
from typing import Any

# The SDK's defaults (openai._constants.DEFAULT_TIMEOUT): 600 s to read, 5 s to connect.
DEFAULT_READ_TIMEOUT_S = 600.0
DEFAULT_CONNECT_TIMEOUT_S = 5.0
# Open connections per pool, the SDK's own limit (DEFAULT_CONNECTION_LIMITS): more requests wait
# for a free connection (not counted in the connect timeout) rather than 10,000 connecting at once.
CONNECTION_LIMIT = 1000

# Environment variables the SDK reads that this path reproduces (or that do not change a request);
# any other OPENAI_* variable (OPENAI_CUSTOM_HEADERS, data residency, workload identity, ...) may
# change what the SDK sends, so the SDK sends it.
_KNOWN_OPENAI_ENV = frozenset({
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_API_VERSION",
    "OPENAI_ADMIN_KEY", "OPENAI_WEBHOOK_SECRET", "OPENAI_LOG", "OPENAI_API_TYPE", "OPENAI_MODEL",
})
_PROXY_ENV = frozenset({"http_proxy", "https_proxy", "all_proxy", "ws_proxy", "wss_proxy"})


_warming: threading.Thread | None = None  # the last thread started, for tests
_warm_asked: set[str] = set()


def warm_imports(*, sdk: bool, sdk_module: str = "openai") -> None:
    """Import the transport (aiohttp, and orjson where installed), and with ``sdk`` the SDK
    ``sdk_module``, in a background thread, once per process: a client is built with its agent, so
    its first model call finds them imported instead of waiting (the openai SDK takes ~1 s,
    aiohttp ~0.15 s, orjson ~0.04 s). The lean path needs an SDK only to build an error, so it is
    not imported for it: a second of CPU taken from the chats for nothing, and ~80,000 (openai) to
    ~160,000 (anthropic) more objects for every full garbage collection to scan while they run.
    ``import parley`` imports none of them."""
    global _warming
    wanted = [name for name in ("aiohttp", "orjson", *((sdk_module,) if sdk else ()))
              if name not in sys.modules and name not in _warm_asked]
    if not wanted:
        return
    _warm_asked.update(wanted)

    def run() -> None:
        for name in wanted:
            try:
                importlib.import_module(name)
            except ImportError:  # orjson is optional (json instead); a missing aiohttp means the SDK sends
                continue
            except Exception:  # a broken install shows on the call that needs it, with its own error
                return

    _warming = threading.Thread(target=run, name="parley-warm-imports", daemon=True)
    _warming.start()


def _dumps_with_json(value: Any) -> bytes:
    return json.dumps(value).encode()


def _loads_with_json(raw: bytes | str) -> Any:
    return json.loads(raw)


def _dumps_with_orjson(value: Any) -> bytes:
    try:
        return _orjson.dumps(value)
    except TypeError:  # what orjson does not take (non-str keys, ints past 64 bits, ...) json may
        return _dumps_with_json(value)


def _loads_with_orjson(raw: bytes | str) -> Any:
    try:
        return _orjson.loads(raw)
    except ValueError:  # NaN and Infinity, which json reads; json raises its own error for the rest
        return json.loads(raw)


_orjson: Any = None


def json_codec() -> tuple[Callable[[Any], bytes], Callable[[bytes | str], Any]]:
    """``(dumps to bytes, loads)`` for request and reply bodies: orjson's where it is installed
    (it comes with parley's ``openai`` and ``anthropic`` extras), the standard library's otherwise.
    A chat's request body is a few KiB and grows with the conversation: json spends ~20 µs
    encoding and ~10 µs decoding a typical one, orjson ~2 and ~3 (docs/bench/models.md)."""
    global _orjson, dumps, loads
    try:
        import orjson
    except ImportError:
        dumps, loads = _dumps_with_json, _loads_with_json
    else:
        _orjson = orjson
        dumps, loads = _dumps_with_orjson, _loads_with_orjson
    return dumps, loads


def _first_dumps(value: Any) -> bytes:
    return json_codec()[0](value)


def _first_loads(raw: bytes | str) -> Any:
    return json_codec()[1](raw)


# A request body as JSON bytes, and a reply body parsed; the first call picks the codec (the
# import of orjson, ~40 ms, is not paid by ``import parley``: see warm_imports).
dumps: Callable[[Any], bytes] = _first_dumps
loads: Callable[[bytes | str], Any] = _first_loads


class LeanEndpoint:
    """What every request to one endpoint carries: its URL, query and headers (auth included)."""

    __slots__ = ("_target", "headers", "query", "url")

    def __init__(self, url: str, query: dict[str, str], headers: dict[str, str]) -> None:
        self.url = url
        self.query = query
        self.headers = headers
        self._target: Any = None  # the URL with the query, parsed once (yarl comes with aiohttp)

    def target(self) -> Any:
        if self._target is None:
            from yarl import URL

            self._target = URL(self.url).with_query(self.query) if self.query else URL(self.url)
        return self._target

    def __repr__(self) -> str:  # the headers hold the key
        return "LeanEndpoint(...)"


_env_modes_seen: tuple[int, bool] | None = None  # (how many variables, the answer) for the last look


def sdk_env_modes() -> bool:
    """True when the environment sets something the SDK would act on and this path does not.
    Looked up again only when the number of variables changes: each agent builds a client, and
    reading the whole environment costs ~0.1 ms."""
    global _env_modes_seen
    count = len(os.environ)
    if _env_modes_seen is not None and _env_modes_seen[0] == count:
        return _env_modes_seen[1]
    found = any(
        (name.startswith("OPENAI_") and name not in _KNOWN_OPENAI_ENV) or name.lower() in _PROXY_ENV for name in os.environ
    )
    _env_modes_seen = (count, found)
    return found


def lean_endpoint(
    *,
    model: str,
    api_key: str,
    base_url: str | None,
    azure: bool,
    api_version: str | None,
    organization: str | None,
    project: str | None,
    headers: dict,
    default_query: dict | None,
) -> LeanEndpoint | None:
    """The endpoint's request settings, as the SDK would build them, or None where the SDK must send.

    ``base_url``, ``headers`` and ``default_query`` are as given to the SDK client (user-info and
    query already split off the URL, see :func:`~parley.models.openai.endpoint_settings`).
    """
    if sdk_env_modes():
        return None
    if importlib.util.find_spec("aiohttp") is None:  # the transport; without it the SDK's own
        return None
    sent: dict[str, str] = {"accept": "application/json", "content-type": "application/json"}
    query: dict[str, str] = {}
    if azure:
        if base_url is None or api_version is None:  # the SDK resolves them from the environment
            return None
        url = f"{base_url.rstrip('/')}/openai/deployments/{model}/chat/completions"
        query["api-version"] = api_version
        if api_key:
            sent["api-key"] = api_key
    else:
        root = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        url = f"{root.rstrip('/')}/chat/completions"
        if api_key:
            sent["authorization"] = f"Bearer {api_key}"
        organization = organization if organization is not None else os.environ.get("OPENAI_ORG_ID")
        project = project if project is not None else os.environ.get("OPENAI_PROJECT_ID")
        if organization:
            sent["openai-organization"] = organization
        if project:
            sent["openai-project"] = project
    # The caller's headers replace the SDK's, whatever their case (HTTP names are case-insensitive).
    sent.update({str(name).lower(): str(value) for name, value in headers.items() if value is not None})
    for name, value in (default_query or {}).items():
        query[str(name)] = str(value)
    return LeanEndpoint(url, query, sent)


def new_session() -> Any:
    """An aiohttp session for one endpoint on the running loop: up to :data:`CONNECTION_LIMIT`
    connections, no cookie jar (a gateway's cookies never carry from one request to the next), the
    environment's proxies not read (see :func:`lean_endpoint`)."""
    import aiohttp

    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT, ttl_dns_cache=300),
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
        auto_decompress=True,
    )


def plain_timeout(options: dict) -> bool:
    """Whether the call's timeout, if any, is a number of seconds (the SDK's richer forms go to the SDK)."""
    timeout = options.get("timeout")
    return timeout is None or (isinstance(timeout, (int, float)) and not isinstance(timeout, bool))


def _timeout(seconds: float | None) -> Any:
    import aiohttp

    if seconds is None:
        return aiohttp.ClientTimeout(total=None, sock_connect=DEFAULT_CONNECT_TIMEOUT_S, sock_read=DEFAULT_READ_TIMEOUT_S)
    # The SDK applies a plain number to every phase (httpx.Timeout(n)), not to the whole request.
    return aiohttp.ClientTimeout(total=None, sock_connect=seconds, sock_read=seconds)


_default_timeout: Any = None


def transport_module() -> Any:
    """The HTTP library the installed SDKs build their errors on (httpx2 for the 3.x SDKs)."""
    try:
        import httpx2
    except ImportError:  # pragma: no cover - the 1.x/2.x SDKs use httpx
        import httpx

        return httpx
    return httpx2


def error_answer(status: int, headers: Any, raw: bytes, url: str) -> tuple[str, Any, Any]:
    """What the SDKs make of an HTTP error answer: their message text, the body (parsed JSON, else
    the text) and the httpx response they attach to the exception."""
    httpx_module = transport_module()
    text = raw.decode("utf-8", "replace").strip()
    body: Any = text
    try:
        body = json.loads(text)
        message = f"Error code: {status} - {body}"
    except ValueError:
        message = text or f"Error code: {status}"
    response = httpx_module.Response(status, headers=list(headers.items()), content=raw,
                                     request=httpx_module.Request("POST", url))
    return message, body, response


def status_error(status: int, headers: Any, raw: bytes, url: str) -> Exception:
    """The SDK's exception for an HTTP error answer, built as the SDK builds it (same type, text, body)."""
    import openai

    message, body, response = error_answer(status, headers, raw, url)
    data = body.get("error", body) if isinstance(body, dict) else body
    kind = {
        400: openai.BadRequestError, 401: openai.AuthenticationError, 403: openai.PermissionDeniedError,
        404: openai.NotFoundError, 409: openai.ConflictError, 422: openai.UnprocessableEntityError,
        429: openai.RateLimitError,
    }.get(status, openai.InternalServerError if status >= 500 else openai.APIStatusError)
    return kind(message, response=response, body=data)


class LeanTransportError(Exception):
    """A request that failed before an answer, named as the SDK names it (``APITimeoutError``,
    ``APIConnectionError``) so that errors read the same on both paths."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def _request_parts(endpoint: LeanEndpoint, options: dict) -> tuple[Any, dict, Any]:
    """``(URL, headers, timeout)`` of one request: the endpoint's, with the call's SDK request
    options (``timeout`` seconds, ``headers``, ``params``: see :func:`~parley.models.openai.request_body`)."""
    global _default_timeout
    headers = endpoint.headers
    if "headers" in options:
        headers = {**headers, **{str(k).lower(): str(v) for k, v in options["headers"].items() if v is not None}}
    target = endpoint.target()
    if "params" in options:
        target = target.update_query({str(k): str(v) for k, v in options["params"].items()})
    if "timeout" in options:
        timeout = _timeout(float(options["timeout"]))
    else:
        timeout = _default_timeout = _default_timeout or _timeout(None)
    return target, headers, timeout


async def post_chat_completion(
    session: Any, endpoint: LeanEndpoint, body: dict, options: dict, errors: Any = None,
) -> Any:
    """POST the chat-completions ``body`` (or any JSON body to ``endpoint``); the answer's JSON.
    ``errors(status, headers, body bytes, url)`` gives the exception for an HTTP error answer
    (default: the openai SDK's, :func:`status_error`)."""
    import aiohttp

    target, headers, timeout = _request_parts(endpoint, options)
    try:
        async with session.post(target, data=dumps(body), headers=headers, timeout=timeout) as response:
            raw = await response.read()
            status = response.status
            if status >= 400:
                raise (errors or status_error)(status, response.headers, raw, endpoint.url)
    except (TimeoutError, aiohttp.ServerTimeoutError):
        raise LeanTransportError("APITimeoutError", "Request timed out.") from None
    except aiohttp.ClientError as error:
        raise LeanTransportError("APIConnectionError", f"Connection error. ({type(error).__name__})") from None
    return loads(raw)


class Fields(dict):
    """A JSON object read like the SDK's models (``chunk.choices[0].delta.content``; a missing
    field is None), so one fold serves the SDK's chunks and these."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def fields(value: Any) -> Any:
    if isinstance(value, dict):
        return Fields({key: fields(item) for key, item in value.items()})
    if isinstance(value, list):
        return [fields(item) for item in value]
    return value


async def server_sent_events(lines: AsyncIterable[bytes]) -> AsyncGenerator[tuple[str | None, str], None]:
    """``(event name or None, data)`` of each event of a ``text/event-stream`` body, read as the
    SSE specification and the SDKs' decoders read it: ``data`` lines joined by newlines, the one
    space after a colon dropped, comments and ``id``/``retry`` skipped, an event ended by a blank
    line (one left unended when the body stops is dropped, as the SDKs drop it)."""
    event: str | None = None
    data: list[str] = []
    async for raw_line in lines:
        line = raw_line.decode("utf-8").rstrip("\r\n")
        if not line:
            if event or data:
                yield event, "\n".join(data)
            event, data = None, []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value


async def post_event_stream(
    session: Any, endpoint: LeanEndpoint, body: dict, options: dict, errors: Any = None, *, last: str | None = None,
) -> AsyncGenerator[tuple[str | None, str], None]:
    """POST ``body`` for a streamed answer; yields its server-sent events (see
    :func:`server_sent_events`). ``errors`` as for :func:`post_chat_completion`; ``last``: the data
    that ends the stream (OpenAI's ``[DONE]``), after which the rest of the body is read so that
    the connection goes back to the pool open, as the SDK drains it (aiohttp closes a connection
    released before its body's end). Close it with ``contextlib.aclosing`` when leaving early."""
    import aiohttp

    target, headers, timeout = _request_parts(endpoint, options)
    headers = {**headers, "accept": "text/event-stream"}
    try:
        async with session.post(target, data=dumps(body), headers=headers, timeout=timeout) as response:
            if response.status >= 400:
                raise (errors or status_error)(response.status, response.headers, await response.read(), endpoint.url)
            async for event in server_sent_events(response.content):
                if last is not None and event[1].startswith(last):
                    await response.content.read()
                    return
                yield event
    except (TimeoutError, aiohttp.ServerTimeoutError):
        raise LeanTransportError("APITimeoutError", "Request timed out.") from None
    except aiohttp.ClientError as error:
        raise LeanTransportError("APIConnectionError", f"Connection error. ({type(error).__name__})") from None


async def stream_chat_completion(session: Any, endpoint: LeanEndpoint, body: dict, options: dict) -> Any:
    """POST the streamed chat-completions ``body``; yields each server-sent chunk (as :class:`Fields`)
    up to ``[DONE]``. An ``error`` event raises the SDK's ``APIError``, as the SDK's stream does."""
    async with aclosing(post_event_stream(session, endpoint, body, options, last="[DONE]")) as events:
        async for kind, data in events:
            if not data:
                continue
            chunk = loads(data)
            if isinstance(chunk, dict) and chunk.get("error") and kind in (None, "error"):
                raise stream_error(chunk["error"], endpoint.url)
            yield fields(chunk)


def stream_error(error: Any, url: str) -> Exception:
    """The SDK's ``APIError`` for an error sent inside a stream."""
    import openai

    httpx_module = transport_module()
    message = (error.get("message") if isinstance(error, dict) else None) or "An error occurred during streaming"
    return openai.APIError(message=message, request=httpx_module.Request("POST", url), body=error)
