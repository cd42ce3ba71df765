"""Streamed calls on the lean path (server-sent events read over the shared aiohttp pool) against
the fake servers: the same replies, events and errors as the SDKs' streams, connections kept open
after a stream, and no SDK imported for it."""

import os
import subprocess
import sys

import aiohttp
import pytest

from parley import events
from parley.models import anthropic as anthropic_provider
from parley.models import openai as openai_provider
from parley.models.openai_http import server_sent_events
from parley.models.protocol import ModelError
from parley.models.retry import TransientModelError
from parley.models.wrapper import OpenAIWrapper

from .conftest import SECRET_KEY

ASK = [{"role": "system", "content": "You add."}, {"role": "user", "content": "What is 1+2 and 3+4?"}]
ADD_TOOL = [{"type": "function", "function": {"name": "add", "description": "Add two ints", "parameters": {
    "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}]
# Set, the anthropic SDK sends every request itself (an SDK-only setting) and adds this header.
SDK_ONLY = {"ANTHROPIC_CUSTOM_HEADERS": "x-parley-path: sdk"}


def anthropic_wrapper(server, **llm_config):
    entry = {"model": "claude-3-5-sonnet-20241022", "api_type": "anthropic", "base_url": server.base_url, "api_key": SECRET_KEY}
    return OpenAIWrapper(config_list=[entry], **llm_config)


async def lines(*chunks: bytes):
    for chunk in chunks:
        yield chunk


async def read_events(*chunks: bytes):
    return [event async for event in server_sent_events(lines(*chunks))]


async def test_server_sent_events_are_read_as_the_specification_says():
    assert await read_events(
        b": a comment\n", b"event: message_start\n", b"data: {\"a\":\n", b"data:1}\n", b"\n",  # two data lines, no space
        b"id: 7\n", b"retry: 10\n", b"\n",  # nothing but id/retry: no event
        b"data: plain\r\n", b"\r\n",  # CRLF line ends; an event without a name
        b"event: ping\n", b"\n",  # a name without data
        b"event: error\n", b"data:  two spaces\n", b"\n",  # only the first space after the colon goes
        b"data: never ended\n",  # the body stops before the blank line: dropped
    ) == [("message_start", "{\"a\":\n1}"), (None, "plain"), ("ping", ""), ("error", " two spaces")]


@pytest.mark.parametrize("path", ["lean", "sdk"])
async def test_a_streamed_anthropic_reply_is_the_same_on_both_paths(anthropic_server, monkeypatch, path):
    if path == "sdk":
        for name, value in SDK_ONLY.items():
            monkeypatch.setenv(name, value)
    reply = {"content": "Both sums coming", "tool_calls": [{"name": "add", "input": {"a": 1, "b": 2}},
                                                          {"name": "add", "input": {"a": 3, "b": [4]}}], "usage": [31, 7]}
    anthropic_server.add(dict(reply), dict(reply))
    plain = await anthropic_wrapper(anthropic_server).a_create(ASK, tools=ADD_TOOL)
    with events.capture(kinds=(events.TokenStreamed,)) as captured:
        streamed = await anthropic_wrapper(anthropic_server, stream=True).a_create(ASK, tools=ADD_TOOL, agent="assistant")
    assert [e.token for e in captured.events] == ["Both ", "sums ", "coming"]
    assert streamed.message["content"] == "Both sums coming"
    assert [call["function"] for call in streamed.message["tool_calls"]] == [
        {"name": "add", "arguments": '{"a": 1, "b": 2}'}, {"name": "add", "arguments": '{"a": 3, "b": [4]}'}]
    assert all(call["id"].startswith("toolu_") and call["type"] == "function" for call in streamed.message["tool_calls"])
    for message in (plain.message, streamed.message):
        for call in message["tool_calls"]:
            call.pop("id")
    assert streamed.message == plain.message
    assert (streamed.prompt_tokens, streamed.completion_tokens) == (plain.prompt_tokens, plain.completion_tokens) == (31, 7)
    assert anthropic_server.requests[-1]["stream"] is True and "stream" not in anthropic_server.requests[-2]
    headers = anthropic_server.headers[-1]
    # The lean path sends the key as the API documents it; the SDK, by version, so or as a Bearer token.
    assert SECRET_KEY in (headers.get("x-api-key", "") + headers.get("authorization", ""))
    assert path == "sdk" or headers["x-api-key"] == SECRET_KEY
    # The path taken: the SDK adds its telemetry headers and the environment's custom one; the lean path neither.
    assert ("x-parley-path" in headers) == (path == "sdk")
    assert any(name.startswith("x-stainless") for name in headers) == (path == "sdk")


@pytest.mark.parametrize("path", ["lean", "sdk"])
async def test_an_error_event_mid_stream_is_the_sdks_error_on_both_paths(anthropic_server, monkeypatch, waits, path):
    if path == "sdk":
        for name, value in SDK_ONLY.items():
            monkeypatch.setenv(name, value)
    anthropic_server.add({"content": "cut short here", "stream_error": f"Overloaded, {SECRET_KEY}"})
    with events.capture(kinds=(events.TokenStreamed,)) as captured:
        with pytest.raises(ModelError) as raised:
            await anthropic_wrapper(anthropic_server, stream=True).a_create(ASK, agent="assistant")
    assert [e.token for e in captured.events] == ["cut "]
    text = str(raised.value)
    # The SDK's stream raises APIStatusError under the stream's 200 status: not retried, on either path.
    assert "HTTP 200 (APIStatusError)" in text and "overloaded_error" in text and "Overloaded" in text
    assert SECRET_KEY not in text
    assert not isinstance(raised.value, TransientModelError) and waits == []
    assert len(anthropic_server.requests) == 1


async def test_a_dropped_anthropic_stream_is_retried_on_the_lean_path(anthropic_server, waits):
    anthropic_server.add({"content": "half of it", "drop": True}, {"content": "the whole answer"})
    response = await anthropic_wrapper(anthropic_server, stream=True).a_create(ASK)
    assert response.message["content"] == "the whole answer"
    assert len(waits) == 1 and len(anthropic_server.requests) == 2
    assert not any(name.startswith("x-stainless") for name in anthropic_server.headers[0])


def traced_session(counts):
    """The lean path's session, with aiohttp's own tracing counting new and reused connections."""
    trace = aiohttp.TraceConfig()

    async def created(session, context, params):
        counts["created"] += 1

    async def reused(session, context, params):
        counts["reused"] += 1

    trace.on_connection_create_end.append(created)
    trace.on_connection_reuseconn.append(reused)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=10), trace_configs=[trace])


async def test_a_stream_leaves_its_connection_open_for_the_next_call(openai_server, anthropic_server, monkeypatch):
    counts = {"created": 0, "reused": 0}
    monkeypatch.setattr(openai_provider, "new_session", lambda: traced_session(counts))
    monkeypatch.setattr(anthropic_provider, "new_session", lambda: traced_session(counts))
    # The body goes on after [DONE]: a client that stopped reading there would close the connection.
    openai_server.add({"content": "one", "linger": 0.2}, {"content": "two", "linger": 0.2}, {"content": "three"})
    entry = {"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}
    for _ in range(3):
        await OpenAIWrapper(config_list=[entry], stream=True, cache_seed=None).a_create(ASK)
    assert counts == {"created": 1, "reused": 2}
    for _ in range(3):
        await anthropic_wrapper(anthropic_server, stream=True).a_create(ASK)
    assert counts == {"created": 2, "reused": 4}


def test_lean_anthropic_calls_do_not_import_the_sdk(anthropic_server):
    from anthropic._constants import ANTHROPIC_API_VERSION

    script = (
        "import asyncio, sys\n"
        "from parley.models.wrapper import OpenAIWrapper\n"
        "entry = {'model': 'claude-3-5-sonnet-20241022', 'api_type': 'anthropic', 'base_url': sys.argv[1],\n"
        "         'api_key': 'sk-ant-x'}\n"
        "async def main():\n"
        "    for stream in (False, True):\n"
        "        reply = await OpenAIWrapper(config_list=[entry], stream=stream).a_create([{'role': 'user', 'content': 'hi'}])\n"
        "        assert reply.message['content'] == 'Hello from the fake server.', reply.message\n"
        "asyncio.run(main())\n"
        "from parley.models import openai_http\n"
        "openai_http._warming.join(120)\n"
        "print(sorted(name for name in ('aiohttp', 'anthropic', 'openai') if name in sys.modules))\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith(("ANTHROPIC_", "OPENAI_"))}
    out = subprocess.run([sys.executable, "-c", script, anthropic_server.base_url], capture_output=True, text=True,
                         timeout=180, env={**env, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1].endswith("['aiohttp']")  # (after the streamed tokens printed)
    # ... and sent the installed SDK's API version, read from its source.
    assert [headers["anthropic-version"] for headers in anthropic_server.headers] == [ANTHROPIC_API_VERSION] * 2


def test_the_api_version_read_from_the_sdks_source_is_the_sdks():
    from anthropic._constants import ANTHROPIC_API_VERSION

    assert anthropic_provider._api_version_in_source() == ANTHROPIC_API_VERSION

