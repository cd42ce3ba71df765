"""Retry with exponential backoff and jitter, around any model client.

Providers turn their SDK's transient failures (429, 5xx, timeouts, dropped connections,
garbled responses) into :class:`TransientModelError`; everything else they raise as
:class:`ModelError`, which is never retried (a content-filter refusal, a bad request, a bad key).
:class:`RetryingClient` retries only the transient kind and honours the server's Retry-After.
When retries run out the error propagates and ``OpenAIWrapper`` fails over to the next entry.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable, Mapping

from .. import events
from .protocol import ModelClient, ModelError, ModelRequest, ModelResponse
from .secrets import redact
from .stream import StreamedReply

# Statuses worth retrying: timeout, conflict/lock, rate limit, server side (incl. Anthropic's 529).
RETRYABLE_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


class TransientModelError(ModelError):
    """A failure that may go away on retry; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """The delay a response asks for: ``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date."""
    if not headers:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        import email.utils  # rare form: an HTTP date

        parsed = email.utils.parsedate_to_datetime(value) if value.strip() else None
        return None if parsed is None else max(0.0, parsed.timestamp() - time.time())


# The sleep between attempts; tests replace it to check the waits without a wall clock.
sleep = asyncio.sleep


def model_error_from_sdk(error: Exception, *, where: str, secrets: Iterable[str | None] = ()) -> ModelError:
    """Classify an exception from the ``openai`` or ``anthropic`` SDK (same shapes) or their HTTP layer.

    ``where`` names the endpoint in the message; ``secrets`` (the client's own) and every
    remembered secret are redacted from the SDK's text (servers and SDKs echo keys and URLs).
    """
    name = type(error).__name__
    status = getattr(error, "status_code", None)
    text = redact(str(error) or name, secrets)
    if isinstance(status, int):
        response = getattr(error, "response", None)
        retry_after = retry_after_seconds(getattr(response, "headers", None))
        message = f"{where}: HTTP {status} ({name}): {text}"
        if status in RETRYABLE_STATUSES:
            return TransientModelError(message, status=status, retry_after=retry_after)
        return ModelError(message)
    module = type(error).__module__.split(".")[0]
    # Timeouts and connection errors, wrapped by the SDK or raised raw by httpx mid-stream;
    # a malformed body (JSON or SSE) is a garbled response, as transient as a dropped one.
    if (
        name in ("APITimeoutError", "APIConnectionError", "APIResponseValidationError")
        or module.startswith("httpx")
        or isinstance(error, (ValueError, ConnectionError, asyncio.TimeoutError))
    ):
        return TransientModelError(f"{where}: {name}: {text}")
    return ModelError(f"{where}: {name}: {text}")


class RetryingClient:
    """Retries transient failures of ``client`` with exponential backoff and full jitter.

    The n-th retry waits a random time in ``[base_delay * 2**n / 2, base_delay * 2**n]`` capped at
    ``max_delay``, or the server's Retry-After when it gives one (also capped).
    """

    def __init__(
        self,
        client: ModelClient,
        *,
        max_retries: int = 3,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.client = client
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    async def create(self, request: ModelRequest) -> ModelResponse:
        attempt = 0
        while True:
            try:
                return await self.client.create(request)
            except TransientModelError as error:
                if attempt >= self.max_retries:
                    raise
                wait = self.delay(attempt, error.retry_after)
                attempt += 1
                events.emit(events.Notice(
                    text=f"{error} (retry {attempt}/{self.max_retries} in {wait:.2f} s)",
                    level="warning",
                ))
                await sleep(wait)
                if isinstance(request.on_token, StreamedReply):
                    request.on_token.restart()  # the retry streams the reply from its start again

