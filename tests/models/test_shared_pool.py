"""The connection pool behind OpenAI-compatible model calls: one per endpoint, key and event loop,
shared by every agent and chat on that loop, closed with its loop, never shared across keys."""

import asyncio
import os
import subprocess
import sys

import pytest

from parley import AssistantAgent, events
from parley.models import openai as openai_provider
from parley.models.wrapper import OpenAIWrapper

from .conftest import SECRET_KEY

HI = [{"role": "user", "content": "Say hello"}]


def pools(loop):
    """The HTTP pools (the lean path's aiohttp sessions) open on ``loop``."""
    return [client for identity, client in (openai_provider._sdk_clients.get(loop) or {}).items() if identity[0] == "aiohttp"]


async def test_two_agents_on_one_endpoint_share_one_pool(openai_server):
    llm_config = {"config_list": [{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}]}
    first, second = AssistantAgent("first", llm_config=llm_config), AssistantAgent("second", llm_config=llm_config)
    loop = asyncio.get_running_loop()
    before = len(pools(loop))
    replies = await asyncio.gather(first.a_generate_reply(messages=HI), second.a_generate_reply(messages=HI))
    assert replies == ["Hello from the fake server."] * 2
    assert len(pools(loop)) == before + 1
    # Both went the lean way (no SDK telemetry headers), each with the entry's key.
    for headers in openai_server.headers[-2:]:
        assert headers["authorization"] == f"Bearer {SECRET_KEY}"
        assert not any(name.startswith("x-stainless") for name in headers)


def test_a_closed_event_loop_leaves_no_open_pool(openai_server):
    seen = []

    async def chat():
        wrapper = OpenAIWrapper(config_list=[{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}])
        response = await wrapper.a_create(HI)
        assert response.message["content"] == "Hello from the fake server."
        loop = asyncio.get_running_loop()
        seen.append((loop, pools(loop)))

    asyncio.run(chat())
    asyncio.run(chat())
    (first_loop, [first_pool]), (second_loop, [second_pool]) = seen
    assert first_pool is not second_pool  # a session belongs to one loop
    for loop, pool in ((first_loop, first_pool), (second_loop, second_pool)):
        assert loop.is_closed() and pool.closed
        assert not openai_provider._sdk_clients.get(loop)


async def test_entries_with_different_keys_never_share_a_pool_nor_auth(openai_server):
    keys = ["sk-entry-one-0000000001", "sk-entry-two-0000000002"]
    wrappers = [
        OpenAIWrapper(config_list=[{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": key}])
        for key in keys
    ]
    loop = asyncio.get_running_loop()
    before = len(pools(loop))
    # Interleaved, concurrent calls: each tells who sent it in its message.
    await asyncio.gather(*(
        wrappers[i % 2].a_create([{"role": "user", "content": f"from {i % 2}"}]) for i in range(10)
    ))
    assert len(pools(loop)) == before + 2
    sent = list(zip(openai_server.requests, openai_server.headers, strict=True))
    assert len(sent) == 10
    for body, headers in sent:
        sender = int(body["messages"][0]["content"].split()[-1])
        assert headers["authorization"] == f"Bearer {keys[sender]}"


@pytest.mark.parametrize(("environment", "imported"), [
    ({}, "aiohttp"),  # the lean path: the SDK is not needed for a call
    ({"OPENAI_CUSTOM_HEADERS": "x-a: 1"}, "aiohttp openai"),  # an SDK-only setting: the SDK sends
])
def test_building_a_client_imports_what_its_calls_need_in_the_background(environment, imported):
    script = (
        "import sys, parley\n"
        "assert 'aiohttp' not in sys.modules and 'openai' not in sys.modules, 'import parley stays light'\n"
        "from parley.models.providers import build_client\n"
        "build_client({'model': 'm', 'base_url': 'http://127.0.0.1:9/v1', 'api_key': 'sk-x'})\n"
        "from parley.models import openai_http\n"
        "assert openai_http._warming is not None and openai_http._warming.daemon\n"
        "openai_http._warming.join(120)\n"
        "print(*(name for name in ('aiohttp', 'openai') if name in sys.modules))\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180,
                         env={**env, **environment, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == imported


async def test_a_streamed_call_goes_the_lean_way_through_the_same_pool(openai_server):
    entry = {"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}
    loop = asyncio.get_running_loop()
    await OpenAIWrapper(config_list=[entry]).a_create(HI)  # the entry's pool, opened by a plain call
    openai_server.add({"content": "one two three", "tool_calls": [{"name": "f", "arguments": '{"x": 1}'}]})
    before = len(pools(loop))
    with events.capture(kinds=(events.TokenStreamed,)) as captured:
        response = await OpenAIWrapper(config_list=[entry], stream=True).a_create(HI, agent="assistant")
    assert [e.token for e in captured.events] == ["one ", "two ", "three"]
    assert response.message["content"] == "one two three"
    assert response.message["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"x": 1}'}
    assert openai_server.requests[-1]["stream"] is True
    assert not any(name.startswith("x-stainless") for name in openai_server.headers[-1])
    assert len(pools(loop)) == before


async def test_an_anthropic_call_goes_the_lean_way_with_the_sdks_headers_and_errors(anthropic_server, waits):
    from anthropic import RateLimitError
    from anthropic._constants import ANTHROPIC_API_VERSION

    entry = {"model": "claude-3-5-sonnet-20241022", "api_type": "anthropic", "base_url": anthropic_server.base_url,
             "api_key": SECRET_KEY}
    anthropic_server.add({"status": 429, "retry_after": "2", "error": f"slow down, {SECRET_KEY}"}, {"content": "Hi."})
    loop = asyncio.get_running_loop()
    before = len(pools(loop))
    with events.capture(kinds=(events.Notice,)) as captured:
        response = await OpenAIWrapper(config_list=[entry]).a_create(HI)
    assert response.message == {"role": "assistant", "content": "Hi."}
    assert waits == [2.0]  # Retry-After honoured by the retry layer
    [notice] = captured.events
    assert f"({RateLimitError.__name__})" in notice.text and SECRET_KEY not in notice.text
    headers = anthropic_server.headers[-1]
    assert headers["x-api-key"] == SECRET_KEY and headers["anthropic-version"] == ANTHROPIC_API_VERSION
    assert not any(name.startswith("x-stainless") for name in headers)
    assert len(pools(loop)) == before + 1
