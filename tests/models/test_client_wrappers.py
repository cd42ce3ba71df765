"""Failover, cache and usage accounting are wrappers around any model client (like retry), and
``OpenAIWrapper`` is their composition: each works on its own around a ScriptedModelClient."""

import pytest

from parley import events
from parley.models.accounting import CallAnnouncer, UsageRecorder, UsageSummary
from parley.models.cached import CachedClient
from parley.models.failover import EntryClient, FailoverClient
from parley.models.protocol import ModelError, ModelRequest
from parley.models.scripted import ScriptedModelClient
from parley.models.wrapper import OpenAIWrapper


def request(text="hi", **fields):
    return ModelRequest([{"role": "user", "content": text}], **fields)


class DictCache(dict):
    """The cache protocol (get, set) on a dict of this test's own."""

    def set(self, key, value):
        self[key] = value


class Broken:
    def __init__(self, error):
        self.error = error
        self.calls = 0

    async def create(self, request):
        self.calls += 1
        raise self.error


async def test_failover_asks_the_next_client_after_a_failure_and_says_so():
    broken, good = Broken(ModelError("down")), ScriptedModelClient(["from the second"])
    with events.capture(kinds=(events.Notice,)) as seen:
        index, response = await FailoverClient([broken, good], ["first-model", "second-model"]).first_accepted(request())
    assert (index, response.message["content"]) == (1, "from the second")
    assert broken.calls == 1
    assert ["'first-model' failed (ModelError)" in notice.text for notice in seen.events] == [True]


async def test_failover_raises_the_last_error_when_every_client_fails():
    second = ModelError("second down")
    with pytest.raises(ModelError) as raised:
        await FailoverClient([Broken(ModelError("first down")), Broken(second)], ["a", "b"]).create(request())
    assert raised.value is second


async def test_failover_passes_a_refused_reply_over_but_returns_the_last_whatever_it_is():
    first, second = ScriptedModelClient(["refused"]), ScriptedModelClient(["also refused"])
    judged = []

    def accept(response):
        judged.append(response.message["content"])
        return False

    index, response = await FailoverClient([first, second], ["a", "b"]).first_accepted(request(), accept)
    assert (index, response.message["content"]) == (1, "also refused")
    assert judged == ["refused", "also refused"]  # the last reply is judged too (classic's pass_filter)


def test_failover_refuses_an_empty_list_or_missing_names():
    with pytest.raises(ValueError, match="at least one client"):
        FailoverClient([], [])
    with pytest.raises(ValueError, match="one model name per client"):
        FailoverClient([ScriptedModelClient()], [])


async def test_the_cache_asks_the_client_once_and_marks_hits():
    client = ScriptedModelClient(["one", "two"])
    cached = CachedClient(client, DictCache(), {"model": "m", "api_key": "sk-not-in-the-key"})
    first, again = await cached.create(request()), await cached.create(request())
    other = await cached.create(request("something else"))
    assert (first.message["content"], first.cached) == ("one", False)
    assert (again.message["content"], again.cached) == ("one", True)
    assert (other.message["content"], other.cached) == ("two", False)
    assert client.calls == 2


async def test_a_cache_hit_is_streamed_to_a_streaming_call():
    cache = DictCache()
    await CachedClient(ScriptedModelClient(["streamed words"]), cache, {"model": "m"}).create(request())
    tokens = []
    await CachedClient(ScriptedModelClient(["never asked"]), cache, {"model": "m"}).create(
        request(stream=True, on_token=tokens.append))
    assert tokens == ["streamed words"]


async def test_usage_is_counted_priced_and_published_with_the_asking_agent():
    summary = UsageSummary()
    recorder = UsageRecorder(ScriptedModelClient(["a b c"], model="", usage=(1000, 2000)), summary, "entry-model", [1.0, 2.0])
    with events.capture(kinds=(events.ModelCalled,)) as seen:
        response = await recorder.create(request(agent="writer", purpose="summary"))
    assert (response.model, response.cost) == ("entry-model", 5.0)  # 1k * $1 + 2k * $2
    assert summary.total == summary.actual == {
        "total_cost": 5.0, "entry-model": {"cost": 5.0, "prompt_tokens": 1000, "completion_tokens": 2000, "total_tokens": 3000}}
    [called] = seen.events
    assert (called.agent, called.purpose, called.model, called.cost, called.cached) == (
        "writer", "summary", "entry-model", 5.0, False)


async def test_a_cached_reply_counts_in_the_total_only():
    summary, cache = UsageSummary(), DictCache()
    recorder = UsageRecorder(CachedClient(ScriptedModelClient(["x"], usage=(3, 4)), cache, {"model": "m"}), summary, "m", None)
    await recorder.create(request())
    await recorder.create(request())
    assert summary.total["scripted"]["total_tokens"] == 14
    assert summary.actual["scripted"]["total_tokens"] == 7


async def test_a_call_is_announced_only_when_the_model_is_asked():
    cache = DictCache()
    client = CachedClient(CallAnnouncer(ScriptedModelClient(["x"]), "m"), cache, {"model": "m"})
    with events.capture(kinds=(events.ModelCallStarted,)) as seen:
        await client.create(request(agent="a"))
        await client.create(request(agent="a"))  # a hit
    assert [(e.agent, e.model) for e in seen.events] == [("a", "m")]


async def test_an_entry_s_params_lie_under_the_request_s():
    client = ScriptedModelClient(["x"])
    client.keep_requests = True
    entry = EntryClient(client, {"temperature": 0.5, "max_tokens": 10})
    await entry.create(request(params={"temperature": 0.0}, agent="a", purpose="summary"))
    [sent] = client.requests
    assert sent.params == {"temperature": 0.0, "max_tokens": 10}
    assert (sent.agent, sent.purpose) == ("a", "summary")


async def test_the_wrapper_composes_failover_over_each_entry_s_accounting():
    first, second = Broken(ModelError("down")), ScriptedModelClient(["ok"], usage=(1, 1))
    wrapper = OpenAIWrapper(config_list=[{"model": "a", "client": first}, {"model": "b", "client": second}])
    outcome: dict = {}
    response = await wrapper.a_create([{"role": "user", "content": "hi"}], outcome=outcome)
    assert (response.message["content"], response.model, outcome["config_id"]) == ("ok", "scripted", 1)
    assert wrapper.total_usage_summary["scripted"]["total_tokens"] == 2
    wrapper.clear_usage_summary()
    assert wrapper.total_usage_summary is None and wrapper.actual_usage_summary is None
