"""Caches: disk (a diskcache directory), Redis (a real redis-server), in-memory; and the wrapper using them."""

import json
import os
import sqlite3

import pytest

from parley.cache import Cache
from parley.models.scripted import ScriptedModelClient
from parley.models.wrapper import OpenAIWrapper

from .conftest import SECRET_KEY

HI = [{"role": "user", "content": "hi"}]


def backends(tmp_path, redis_url):
    return [
        Cache.disk(cache_seed=7, cache_path_root=str(tmp_path)),
        Cache.redis(cache_seed=7, redis_url=redis_url),
        Cache.in_memory(cache_seed=f"t{tmp_path.name}"),
    ]


def test_get_set_roundtrip_and_default(tmp_path, redis_url):
    for cache in backends(tmp_path, redis_url):
        with cache:
            assert cache.get("missing", "dflt") == "dflt"
            cache.set("k", {"message": {"content": "x"}, "n": [1, 2]})
            assert cache.get("k") == {"message": {"content": "x"}, "n": [1, 2]}


def test_disk_cache_persists_per_seed(tmp_path):
    with Cache.disk(cache_seed=1, cache_path_root=str(tmp_path)) as cache:
        cache.set("k", "one")
    with Cache.disk(cache_seed=1, cache_path_root=str(tmp_path)) as cache:
        assert cache.get("k") == "one"
    with Cache.disk(cache_seed=2, cache_path_root=str(tmp_path)) as cache:
        assert cache.get("k") is None
    assert os.path.exists(tmp_path / "1" / "cache.db")  # classic's layout: <root>/<seed>/ is a diskcache


def test_classic_cache_context_gives_the_backend_and_closes_it(tmp_path):
    # Classic: ``with Cache(config) as cache`` is the backend's own context (same get/set/close).
    from parley.cache.disk_cache import DiskCache

    with Cache({"cache_seed": 3, "cache_path_root": str(tmp_path)}) as cache:
        assert isinstance(cache, DiskCache) and cache.path == os.path.join(str(tmp_path), "3")
        cache.set("k", [1])
    with DiskCache(os.path.join(str(tmp_path), "3")) as again:
        assert again.get("k") == [1] and again.get("missing", "d") == "d"


def test_in_memory_cache_is_shared_by_seed_and_copies_values():
    from parley.cache.in_memory_cache import InMemoryCache

    value = {"content": ["a"]}
    InMemoryCache(seed="shared-t").set("k", value)
    value["content"].append("changed by the caller")
    got = InMemoryCache(seed="shared-t").get("k")
    assert got == {"content": ["a"]}
    got["content"].append("x")
    assert InMemoryCache(seed="shared-t").get("k") == {"content": ["a"]}
    assert InMemoryCache(seed="other-t").get("k") is None
    assert InMemoryCache(seed="shared-t")._prefixed_key("k") == "shared-t_k"


def test_redis_keys_are_namespaced_by_seed(redis_url):
    import redis

    with Cache.redis(cache_seed="ns", redis_url=redis_url) as cache:
        cache.set("k", 5)
    assert json.loads(redis.Redis.from_url(redis_url).get("parley:ns:k")) == 5
    with Cache.redis(cache_seed="other", redis_url=redis_url) as cache:
        assert cache.get("k") is None


async def test_wrapper_uses_the_cache_and_splits_usage(tmp_path, openai_server):
    openai_server.add({"content": "fresh", "usage": [1000, 1000]}, {"content": "other", "usage": [1000, 1000]})
    config = {"config_list": [{"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY}]}
    with Cache.disk(cache_seed=42, cache_path_root=str(tmp_path)) as cache:
        w = OpenAIWrapper(**config)
        first = await w.a_create(HI, cache=cache)
        second = await w.a_create(HI, cache=cache)
        third = await w.a_create([*HI, {"role": "user", "content": "more"}], cache=cache)
    assert (first.cached, second.cached, third.cached) == (False, True, False)
    assert second.message == first.message and second.cost == first.cost
    assert len(openai_server.requests) == 2
    one_call = 0.0025 + 0.01  # gpt-4o, 1k tokens each way
    assert w.actual_usage_summary["total_cost"] == pytest.approx(2 * one_call)  # excluding cached inference
    assert w.total_usage_summary["total_cost"] == pytest.approx(3 * one_call)  # including it
    assert w.total_usage_summary["gpt-4o"]["prompt_tokens"] == 3000
    # Nothing in the cache file holds the key.
    for path in (tmp_path / "42").iterdir():
        assert SECRET_KEY.encode() not in path.read_bytes()


async def test_cache_seed_in_llm_config_and_no_cache_unless_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    client = ScriptedModelClient(["a", "b", "c"])
    w = OpenAIWrapper(config_list=[{"model": "s", "client": client}])
    assert [(await w.a_create(HI)).message["content"] for _ in range(2)] == ["a", "b"]
    assert not os.path.exists(tmp_path / ".cache")
    w = OpenAIWrapper(config_list=[{"model": "s", "client": ScriptedModelClient(["x", "y"])}], seed=42)  # the seed article's key
    assert [(await w.a_create(HI)).message["content"] for _ in range(2)] == ["x", "x"]
    assert os.path.exists(tmp_path / ".cache" / "42" / "cache.db")
    rows = sqlite3.connect(tmp_path / ".cache" / "42" / "cache.db").execute("SELECT count(*) FROM Cache").fetchone()
    assert rows == (1,)


async def test_cache_key_ignores_the_api_key_and_tags_but_not_the_model(openai_server):
    from parley.models.protocol import ModelRequest
    from parley.models.wrapper import cache_key

    request = ModelRequest(messages=HI, params={"temperature": 0})
    base = {"model": "gpt-4o", "base_url": "http://x/v1"}
    assert cache_key({**base, "api_key": "one", "tags": ["a"]}, request) == cache_key({**base, "api_key": "two"}, request)
    assert cache_key(base, request) != cache_key({**base, "model": "gpt-4o-mini"}, request)
    assert cache_key(base, request) != cache_key(base, ModelRequest(messages=HI, params={"temperature": 1}))
    # What is sent makes the key, not where: another base_url (a restarted server, a failover entry) hits.
    elsewhere = cache_key({**base, "base_url": "http://127.0.0.1:2/v1"}, request)
    assert cache_key({**base, "base_url": "http://127.0.0.1:1/v1"}, request) == elsewhere


async def test_cached_reply_is_still_streamed_as_one_token(tmp_path):
    from parley import events

    w = OpenAIWrapper(config_list=[{"model": "s", "client": ScriptedModelClient(["alpha beta"])}], stream=True)
    cache = Cache.in_memory(cache_seed=f"stream-{tmp_path.name}")
    with events.capture(kinds=(events.TokenStreamed,)) as captured:
        await w.a_create(HI, cache=cache, agent="bot")
        live = [e.token for e in captured.events]
        cached = await w.a_create(HI, cache=cache, agent="bot")
    assert live == ["alpha ", "beta "]
    assert cached.cached and [e.token for e in captured.events[len(live):]] == ["alpha beta"]


def test_a_classic_config_seed_names_a_folder_inside_the_root(tmp_path):
    root = tmp_path / "root"
    for seed in ("../outside", "a/b", ".."):
        with pytest.raises(ValueError, match="cache_seed must be an int or a folder name"):
            Cache({"cache_seed": seed, "cache_path_root": str(root)})
    with pytest.raises(TypeError, match="cache_seed must be an int or a str"):
        Cache({"cache_seed": 4.5, "cache_path_root": str(root)})
    assert not (tmp_path / "outside").exists()
    with Cache({"cache_seed": None, "cache_path_root": str(root)}) as cache:  # classic: str(None)
        cache.set("k", 1)
    assert (root / "None" / "cache.db").exists()
