"""The model-client wrappers in detail (failover, cache, usage accounting): what each passes on,
keeps and publishes, field by field. Latency comes from a clock the test sets, not the wall clock."""

from dataclasses import asdict, replace

import pytest

from parley import events
from parley.events import ModelCalled, ModelCallLogged, ModelCallStarted
from parley.models import accounting, pricing
from parley.models.accounting import CallAnnouncer, UsageRecorder, UsageSummary, add_usage, usage_of_calls
from parley.models.cached import CachedClient, cache_key, public_entry
from parley.models.failover import EntryClient, FailoverClient
from parley.models.protocol import ModelError, ModelRequest, ModelResponse
from parley.models.scripted import ScriptedModelClient
from parley.models.stream import StreamedReply


def request(text="hi", **fields):
    return ModelRequest([{"role": "user", "content": text}], **fields)


class StrictCache:
    """The cache protocol exactly as documented: ``get(key, default)`` and ``set(key, value)``."""

    def __init__(self):
        self.data = {}

    def get(self, key, default):
        return self.data.get(key, default)

    def set(self, key, value):
        self.data[key] = value


class Fixed:
    """A client that answers every request with one given response (a copy)."""

    def __init__(self, response):
        self.response = response
        self.calls = 0

    async def create(self, request):
        self.calls += 1
        return replace(self.response)


class Broken:
    async def create(self, request):
        raise ModelError("down")


@pytest.fixture
def stream_wanting():
    """A fresh event stream with a sink for the given event types only: (stream, what it saw)."""
    made = []

    def make(*kinds):
        stream, seen = events.EventStream(), []
        sink = seen.append
        stream.add_sink(sink, kinds)
        made.append((stream, sink))
        return stream, seen

    yield make
    for stream, sink in made:
        stream.remove_sink(sink)  # no longer wanted anywhere


def fields(event) -> dict:
    """An event's fields but its time stamp."""
    return {k: v for k, v in asdict(event).items() if k != "time"}


# --- failover ---

async def test_an_entry_client_passes_every_field_of_the_request_on():
    client = ScriptedModelClient(["x"])
    client.keep_requests = True
    original = request(
        tools=[{"type": "function", "function": {"name": "f"}}], response_format={"type": "json_object"},
        params={"temperature": 0.0}, stream=True, on_token=print, functions=[{"name": "f"}], agent="a", purpose="summary",
    )
    await EntryClient(client, {"temperature": 0.5, "seed": 1}).create(original)
    [sent] = client.requests
    assert sent == replace(original, params={"temperature": 0.0, "seed": 1})


async def test_create_returns_the_first_accepted_reply():
    response = await FailoverClient([Broken(), ScriptedModelClient(["second"])], ["a", "b"]).create(request())
    assert response.message["content"] == "second"


def test_the_failover_error_message_in_full():
    with pytest.raises(ValueError) as caught:
        FailoverClient([], [])
    assert str(caught.value) == "FailoverClient needs at least one client, and one model name per client"


async def test_only_failures_before_the_last_entry_are_announced_as_warnings_and_restart_the_stream():
    restarts = []

    class Reply(StreamedReply):
        def restart(self):
            restarts.append(True)

    on_token = Reply.__new__(Reply)
    with events.capture(kinds=(events.Notice,)) as seen, pytest.raises(ModelError):
        await FailoverClient([Broken(), Broken(), Broken()], ["a", "b", "c"]).create(request(stream=True, on_token=on_token))
    assert [(notice.text, notice.level) for notice in seen.events] == [
        ("model 'a' failed (ModelError); trying the next config entry", "warning"),
        ("model 'b' failed (ModelError); trying the next config entry", "warning"),
    ]
    assert restarts == [True, True]


# --- cache ---

def test_public_entry_drops_secrets_and_live_objects_only():
    entry = {"model": "m", "api_key": "sk-x", "azure_ad_token": "t", "default_headers": {"a": "b"},
             "http_client": object(), "temperature": 0.3, "hook": len, "tags": ["t"]}
    assert public_entry(entry) == {"model": "m", "temperature": 0.3, "tags": ["t"]}


def test_the_cache_key_is_stable_across_releases():
    # Keys of existing disk and Redis caches must stay valid: this value is the key as computed
    # since the cache landed (a change here makes every stored reply a miss).
    entry = {"model": "gpt-4o", "api_key": "sk-never-in-the-key", "base_url": "http://127.0.0.1:1/v1", "seed": 7}
    req = ModelRequest([{"role": "user", "content": "hi"}], tools=[{"type": "function", "function": {"name": "f"}}],
                       response_format={"type": "json_object"}, params={"temperature": 0, "timeout": 5, "when": object})
    assert cache_key(entry, req) == "e7ab971d8ee4d44500deaed5a45197f1833d8794d468b0aa575ccad0addd637e"
    with_functions = replace(req, functions=[{"name": "f"}])
    assert cache_key(entry, with_functions) == "c8589f6c4f448fe6ea5d2bf2b039dcfcbe6ade573e556f3cab6385c4edc76e5f"


def test_what_changes_the_cache_key_and_what_does_not():
    base_entry = {"model": "m"}
    base = request(tools=[{"type": "function", "function": {"name": "f"}}], params={"temperature": 0})
    key = cache_key(base_entry, base)
    same = [
        ({**base_entry, "base_url": "http://elsewhere/v1", "api_version": "2024"}, base),  # where it is sent
        ({**base_entry, "tags": ["x"], "price": [1, 2], "max_retries": 9, "timeout": 3}, base),
        (base_entry, replace(base, params={"temperature": 0, "timeout": 3, "max_retries": 1})),
        (base_entry, replace(base, functions=[])),  # no functions: keys from before they were keyed stay valid
        (base_entry, replace(base, agent="other", purpose="summary", stream=True)),
    ]
    for entry, req in same:
        assert cache_key(entry, req) == key, (entry, req)
    different = [
        ({"model": "m2"}, base),
        ({**base_entry, "seed": 1}, base),
        (base_entry, replace(base, messages=[{"role": "user", "content": "other"}])),
        (base_entry, replace(base, tools=None)),
        (base_entry, replace(base, response_format={"type": "json_object"})),
        (base_entry, replace(base, params={"temperature": 1})),
        (base_entry, replace(base, functions=[{"name": "f"}])),
    ]
    keys = [cache_key(entry, req) for entry, req in different]
    assert key not in keys and len(set(keys)) == len(keys)


async def test_a_cached_reply_keeps_every_field_and_its_choices():
    choices = [{"message": {"role": "assistant", "content": "one"}}, {"message": {"role": "assistant", "content": "two"}}]
    answer = ModelResponse(message={"role": "assistant", "content": "one"}, model="m", prompt_tokens=3,
                           completion_tokens=4, cost=0.5, choices=choices)
    cache = StrictCache()
    client = Fixed(answer)
    first = await CachedClient(client, cache, {"model": "m"}).create(request())
    hit = await CachedClient(client, cache, {"model": "m"}).create(request())
    assert first == answer and client.calls == 1
    assert hit == replace(answer, cached=True)
    plain = await CachedClient(Fixed(replace(answer, choices=None)), cache, {"model": "other"}).create(request())
    assert "choices" not in cache.data[cache_key({"model": "other"}, request())]
    assert plain.choices is None


# --- accounting ---

def test_add_usage_adds_up_per_model_and_in_total():
    summary = add_usage(None, ModelResponse(message={}, model="a", prompt_tokens=1, completion_tokens=2, cost=0.5))
    summary = add_usage(summary, ModelResponse(message={}, model="a", prompt_tokens=10, completion_tokens=20, cost=1.0))
    summary = add_usage(summary, ModelResponse(message={}, model="b", prompt_tokens=100, completion_tokens=0, cost=0.25))
    assert summary == {
        "total_cost": 1.75,
        "a": {"cost": 1.5, "prompt_tokens": 11, "completion_tokens": 22, "total_tokens": 33},
        "b": {"cost": 0.25, "prompt_tokens": 100, "completion_tokens": 0, "total_tokens": 100},
    }


def test_stored_calls_are_counted_cached_ones_in_the_total_only():
    calls = [
        {"model": "a", "prompt_tokens": 1, "completion_tokens": 2, "cost": 0.5, "cached": False},
        {"model": "a", "prompt_tokens": 1, "completion_tokens": 2, "cost": 0.5, "cached": True},
        {"model": "b", "prompt_tokens": 4, "completion_tokens": 0, "cost": 0.0, "cached": False},
    ]
    assert usage_of_calls([]) == (None, None)
    total, actual = usage_of_calls(calls)
    assert total == {"total_cost": 1.0, "a": {"cost": 1.0, "prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6},
                     "b": {"cost": 0.0, "prompt_tokens": 4, "completion_tokens": 0, "total_tokens": 4}}
    assert actual == {"total_cost": 0.5, "a": {"cost": 0.5, "prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
                      "b": {"cost": 0.0, "prompt_tokens": 4, "completion_tokens": 0, "total_tokens": 4}}
    # On top of what a summary already holds: counted in, not replacing.
    summary = UsageSummary()
    made = ModelResponse(message={}, model="a", prompt_tokens=1, completion_tokens=2, cost=0.5)
    summary.count(made)
    summary.count(made)
    summary.count(ModelResponse(message={}, model="a", prompt_tokens=100, completion_tokens=200, cost=5.0, cached=True))
    assert summary.actual["a"] == {"cost": 1.0, "prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6}
    assert summary.total["a"] == {"cost": 6.0, "prompt_tokens": 102, "completion_tokens": 204, "total_tokens": 306}
    summary.count_stored(calls)
    assert summary.total["a"] == {"cost": 7.0, "prompt_tokens": 104, "completion_tokens": 208, "total_tokens": 312}
    assert summary.actual["a"] == {"cost": 1.5, "prompt_tokens": 3, "completion_tokens": 6, "total_tokens": 9}
    summary.clear()
    assert (summary.total, summary.actual) == (None, None)


async def test_every_reply_a_model_made_counts_in_actual():
    summary = UsageSummary()
    recorder = UsageRecorder(ScriptedModelClient(["x", "y"], usage=(1, 2)), summary, "m", None)
    await recorder.create(request())
    await recorder.create(request())
    assert summary.actual == summary.total == {
        "total_cost": 0.0, "scripted": {"cost": 0.0, "prompt_tokens": 2, "completion_tokens": 4, "total_tokens": 6}}


async def test_a_reply_is_priced_from_the_table_only_when_the_client_gave_no_cost():
    unpriced = UsageRecorder(ScriptedModelClient(["x"], model="gpt-4o", usage=(1000, 1000)), UsageSummary(), "m", None)
    assert (await unpriced.create(request())).cost == pricing.cost("gpt-4o", 1000, 1000) > 0
    priced = UsageRecorder(
        ScriptedModelClient(["x"], model="gpt-4o", usage=(1000, 1000), cost_per_call=0.123), UsageSummary(), "m", None)
    assert (await priced.create(request())).cost == 0.123


async def test_model_called_carries_the_latency_from_the_clock(monkeypatch, stream_wanting):
    ticks = iter([100.0, 102.5])
    monkeypatch.setattr(accounting, "_perf_counter", lambda: next(ticks))
    stream, seen = stream_wanting(ModelCalled)
    with events.use_stream(stream):
        await UsageRecorder(ScriptedModelClient(["x"], usage=(1, 2)), UsageSummary(), "m", None).create(
            request(agent="w", purpose="summary"))
    [called] = seen
    assert (called.agent, called.model, called.latency_s, called.purpose, called.cached) == (
        "w", "scripted", 2.5, "summary", False)


async def test_model_call_logged_alone_is_published_in_full(monkeypatch, stream_wanting):
    ticks = iter([1.0, 1.25, 2.0, 2.0])
    monkeypatch.setattr(accounting, "_perf_counter", lambda: next(ticks))
    stream, seen = stream_wanting(ModelCallLogged)
    tools = [{"type": "function", "function": {"name": "f"}}]
    req = request(agent="w", tools=tools, params={"temperature": 0, "api_key": "sk-proj-" + "a1" * 20})
    recorder = UsageRecorder(
        CachedClient(ScriptedModelClient(["the reply"], usage=(3, 4), cost_per_call=0.5), StrictCache(), {"model": "m"}),
        UsageSummary(), "m", None)
    with events.use_stream(stream):
        response = await recorder.create(req)
        await recorder.create(req)  # a cache hit
    logged, hit = seen
    assert (hit.cached, hit.response) == (True, response.message)
    assert fields(logged) == fields(ModelCallLogged(
        agent="w", model="scripted", messages=[{"role": "user", "content": "hi"}],
        params={"temperature": 0, "api_key": logged.params["api_key"]}, tools=tools, response=response.message,
        prompt_tokens=3, completion_tokens=4, cost=0.5, latency_s=0.25, cached=False,
    ))
    assert "a1a1" not in logged.params["api_key"]
    assert logged.messages is not req.messages  # a copy: the chat goes on appending to its own


async def test_a_sink_of_model_called_alone_gets_it(stream_wanting):
    stream, seen = stream_wanting(ModelCalled)
    with events.use_stream(stream):
        await UsageRecorder(ScriptedModelClient(["x"]), UsageSummary(), "m", None).create(request())
    assert [type(e) for e in seen] == [ModelCalled]


async def test_a_started_call_names_its_purpose(stream_wanting):
    stream, seen = stream_wanting(ModelCallStarted)
    with events.use_stream(stream):
        await CallAnnouncer(ScriptedModelClient(["x"]), "m").create(request(agent="a", purpose="summary"))
    assert [fields(e) for e in seen] == [{"agent": "a", "model": "m", "purpose": "summary"}]
