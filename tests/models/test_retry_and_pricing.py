import email.utils
import time

import pytest

from parley.models import pricing
from parley.models.protocol import ModelConfigError, ModelError, ModelRequest, ModelResponse
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
