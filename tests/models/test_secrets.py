"""The API key never appears in an exception, an event, a log line or a cache entry."""

import logging
import traceback

import pytest

from parley import events
from parley.cache import Cache
from parley.models.protocol import ModelError
from parley.models.wrapper import OpenAIWrapper

from .conftest import SECRET_KEY

HI = [{"role": "user", "content": "hi"}]


def _everything(captured, caplog, error):
    texts = [repr(e) for e in captured.events]
    texts += [record.getMessage() for record in caplog.records]
    texts += ["".join(traceback.format_exception(error))]
    return "\n".join(texts)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_key_echoed_by_the_server_is_redacted_everywhere(provider, openai_server, anthropic_server, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    server = openai_server if provider == "openai" else anthropic_server
    echo = {"status": 401, "error": f"Incorrect API key provided: {SECRET_KEY}."}
    flaky = {"status": 500, "error": f"upstream failed for key {SECRET_KEY}"}
    server.add(flaky, echo, echo, {"content": "fine"})  # entry 1: 500, retry, 401; entry 2: 401
    entry = {"model": "m", "api_type": provider, "base_url": server.base_url, "api_key": SECRET_KEY, "max_retries": 1}
    w = OpenAIWrapper(config_list=[entry, dict(entry)], stream=True)
    with events.capture() as captured, Cache.disk(cache_seed=1, cache_path_root=str(tmp_path)) as cache:
        with pytest.raises(ModelError) as error:
            await w.a_create(HI, cache=cache)
        assert "HTTP 401" in str(error.value)
        response = await w.a_create(HI, cache=cache)
    assert response.message["content"] == "fine"
    assert len(captured.of(events.Notice)) >= 2
    assert SECRET_KEY not in _everything(captured, caplog, error.value)
    assert SECRET_KEY not in repr(w._clients[0]) and SECRET_KEY not in repr(w.config_list[0].get("model"))
    with open(tmp_path / "1" / "cache.sqlite", "rb") as file:
        assert SECRET_KEY.encode() not in file.read()
