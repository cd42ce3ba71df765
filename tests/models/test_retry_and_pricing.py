import email.utils
import time

import pytest

from parley.models import pricing
from parley.models.protocol import (
    ModelConfigError,
    ModelError,
    ModelRequest,
    ModelResponse,
)
from parley.models.retry import RetryingClient, TransientModelError, retry_after_seconds
from parley.models.secrets import redact


class Flaky:
    """Fails with the given errors, then answers."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = []

    async def create(self, request):
        self.calls.append(time.monotonic())
        if self.errors:
            raise self.errors.pop(0)
        return ModelResponse(message={"role": "assistant", "content": "ok"})


REQUEST = ModelRequest(messages=[{"role": "user", "content": "x"}])


async def test_backoff_grows_exponentially_with_jitter(waits):
    client = Flaky(TransientModelError("a"), TransientModelError("b"), TransientModelError("c"))
    retrying = RetryingClient(client, max_retries=3, base_delay=0.05)
    assert (await retrying.create(REQUEST)).message["content"] == "ok"
    assert len(client.calls) == 4
    assert 0.025 <= waits[0] <= 0.05 and 0.05 <= waits[1] <= 0.1 and 0.1 <= waits[2] <= 0.2
    delays = {RetryingClient(client, base_delay=1.0).delay(2, None) for _ in range(20)}
    assert len(delays) > 1 and all(2.0 <= d <= 4.0 for d in delays)


async def test_create_waits_the_servers_retry_after_not_the_backoff(waits):
    client = Flaky(TransientModelError("429", status=429, retry_after=9.0), TransientModelError("429", status=429, retry_after=120.0))
    assert (await RetryingClient(client, base_delay=0.05, max_delay=60).create(REQUEST)).message["content"] == "ok"
    assert waits == [9.0, 60.0]


async def test_retry_after_wins_and_is_capped():
    retrying = RetryingClient(Flaky(), max_delay=5)
    assert retrying.delay(0, 1.5) == 1.5
    assert retrying.delay(0, 3600) == 5


async def test_non_transient_errors_are_not_retried():
    client = Flaky(ModelError("refused"))
    with pytest.raises(ModelError, match="refused"):
        await RetryingClient(client, base_delay=0.01).create(REQUEST)
    assert len(client.calls) == 1


def test_retry_after_header_forms():
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    in_three = email.utils.formatdate(time.time() + 3, usegmt=True)
    assert 1.5 < retry_after_seconds({"retry-after": in_three}) <= 3.5
    assert retry_after_seconds({}) is None


def test_redact_removes_keys():
    text = "Incorrect API key provided: sk-proj-abc123456789. Also mine-secret-value"
    cleaned = redact(text, ("mine-secret-value",))
    assert "sk-proj" not in cleaned and "abc123456789" not in cleaned and "mine-secret-value" not in cleaned
    assert cleaned == "Incorrect API key provided: ***. Also ***"


def test_price_table_matches_dated_names_by_longest_prefix():
    assert pricing.price_for("gpt-4o-mini-2024-07-18") == pricing.PRICES_PER_1K["gpt-4o-mini"]
    assert pricing.price_for("gpt-4o-2024-08-06") == pricing.PRICES_PER_1K["gpt-4o"]
    assert pricing.price_for("gpt-4-0613") == pricing.PRICES_PER_1K["gpt-4"]
    assert pricing.price_for("gpt-4oops") is None
    assert pricing.cost("llama3", 1000, 1000) == 0.0
    assert pricing.cost("gpt-4", 1000, 500) == pytest.approx(0.03 + 0.03)
    assert pricing.cost("gpt-4", 1000, 500, price=[0.001, 0.002]) == pytest.approx(0.002)
    with pytest.raises(ModelConfigError, match="two numbers"):
        pricing.cost("gpt-4", 1, 1, price=["a", 1])


# --- the retry policy's edges (found by mutation testing: docs/mutation.md) ---

async def test_retries_stop_after_max_retries_with_the_last_error(waits):
    errors = [TransientModelError(f"fail {i}") for i in range(5)]
    client = Flaky(*errors)
    with pytest.raises(TransientModelError, match="fail 2"):
        await RetryingClient(client, max_retries=2, base_delay=0.01).create(REQUEST)
    assert len(client.calls) == 3 and len(waits) == 2
    none = Flaky(TransientModelError("once"))
    with pytest.raises(TransientModelError, match="once"):
        await RetryingClient(none, max_retries=0).create(REQUEST)
    assert len(none.calls) == 1


def test_negative_max_retries_is_refused_by_name():
    with pytest.raises(ValueError, match="max_retries must be >= 0"):
        RetryingClient(Flaky(), max_retries=-1)


async def test_default_policy_three_retries_from_half_a_second_capped_at_thirty(waits):
    client = Flaky(*[TransientModelError("x") for _ in range(4)])
    retrying = RetryingClient(client)
    with pytest.raises(TransientModelError):
        await retrying.create(REQUEST)
    assert len(waits) == 3
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0 and 1.0 <= waits[2] <= 2.0
    assert all(15.0 <= retrying.delay(10, None) <= 30.0 for _ in range(20))


async def test_each_retry_is_announced_with_its_wait(waits):
    from parley import events

    client = Flaky(TransientModelError("busy", status=503, retry_after=1.25))
    with events.capture() as seen:
        await RetryingClient(client, max_retries=4).create(REQUEST)
    notices = [e for e in seen.events if isinstance(e, events.Notice)]
    assert [(n.text, n.level) for n in notices] == [("busy (retry 1/4 in 1.25 s)", "warning")]


async def test_a_streamed_reply_restarts_on_retry(waits):
    from parley.models.stream import StreamedReply

    class Recording(StreamedReply):
        def __init__(self):
            self.restarts = 0

        def restart(self):
            self.restarts += 1

    reply = Recording.__new__(Recording)
    reply.restarts = 0
    request = ModelRequest(messages=[{"role": "user", "content": "x"}], on_token=reply)
    await RetryingClient(Flaky(TransientModelError("a"), TransientModelError("b"))).create(request)
    assert reply.restarts == 2


def test_retry_after_edge_cases():
    assert retry_after_seconds(None) is None
    assert retry_after_seconds({"retry-after": "-5"}) == 0.0
    assert retry_after_seconds({"retry-after-ms": "-5"}) == 0.0
    assert retry_after_seconds({"retry-after-ms": "soon", "retry-after": "4"}) == 4.0
    assert retry_after_seconds({"retry-after-ms": "", "retry-after": "4"}) == 4.0
    assert retry_after_seconds({"retry-after": ""}) is None
    assert retry_after_seconds({"retry-after": "  "}) is None
    long_ago = email.utils.formatdate(time.time() - 3600, usegmt=True)
    assert retry_after_seconds({"retry-after": long_ago}) == 0.0


class _Response:
    def __init__(self, headers):
        self.headers = headers


def _sdk_error(name, status=None, headers=None, module="openai"):
    cls = type(name, (Exception,), {"__module__": module})
    error = cls("boom with sk-test-SECRET-0123456789abcdef and my-own-secret-xyz")
    if status is not None:
        error.status_code = status
        error.response = _Response(headers or {})
    return error


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503, 529, 599])
def test_sdk_statuses_worth_retrying_are_transient(status):
    from parley.models.retry import model_error_from_sdk

    error = model_error_from_sdk(_sdk_error("APIStatusError", status, {"retry-after": "7"}), where="openai /chat")
    assert isinstance(error, TransientModelError)
    assert error.status == status and error.retry_after == 7.0
    assert str(error).startswith(f"openai /chat: HTTP {status} (APIStatusError): boom with ")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 499, 600])
def test_other_sdk_statuses_are_final(status):
    from parley.models.retry import model_error_from_sdk

    error = model_error_from_sdk(_sdk_error("APIStatusError", status), where="w")
    assert type(error) is ModelError
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize(
    "error",
    [
        _sdk_error("APITimeoutError"), _sdk_error("APIConnectionError"), _sdk_error("APIResponseValidationError"),
        _sdk_error("ReadError", module="httpx._exceptions"), ValueError("bad json"), ConnectionResetError("reset"),
        TimeoutError("slow"),
    ],
)
def test_timeouts_dropped_connections_and_garbled_bodies_are_transient(error):
    from parley.models.retry import model_error_from_sdk

    result = model_error_from_sdk(error, where="anthropic /messages")
    assert isinstance(result, TransientModelError) and result.status is None and result.retry_after is None
    assert str(result).startswith(f"anthropic /messages: {type(error).__name__}: ")


def test_unknown_sdk_errors_are_final_and_every_secret_is_redacted():
    from parley.models.retry import model_error_from_sdk

    error = model_error_from_sdk(_sdk_error("AuthenticationFailure", module="somesdk"), where="w",
                                 secrets=("my-own-secret-xyz",))
    assert type(error) is ModelError
    assert str(error) == "w: AuthenticationFailure: boom with *** and ***"
    blank = model_error_from_sdk(_sdk_error("Empty").__class__(), where="w")
    assert str(blank) == "w: Empty: Empty"


def test_a_status_error_without_a_response_or_headers_still_classifies():
    from parley.models.retry import model_error_from_sdk

    bare = _sdk_error("APIStatusError")
    bare.status_code = 503  # no .response at all (a hand-made or older SDK error)
    error = model_error_from_sdk(bare, where="w")
    assert isinstance(error, TransientModelError) and error.status == 503 and error.retry_after is None
    headless = _sdk_error("APIStatusError")
    headless.status_code, headless.response = 429, object()  # a response without .headers
    error = model_error_from_sdk(headless, where="w")
    assert isinstance(error, TransientModelError) and error.retry_after is None
