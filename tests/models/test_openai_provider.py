"""The openai provider against a real HTTP server (the fake), through the real openai SDK."""

import asyncio
import base64
import urllib.parse

import pytest

from parley import events
from parley.models.openai import OpenAIClient
from parley.models.protocol import ModelConfigError, ModelError
from parley.models.providers import build_client
from parley.models.retry import RetryingClient, TransientModelError
from parley.models.wrapper import OpenAIWrapper

from .conftest import SECRET_KEY

HI = [{"role": "user", "content": "Say hello"}]


def wrapper(server, **llm_config):
    entry = {"model": "gpt-4o-mini", "base_url": server.base_url, "api_key": SECRET_KEY}
    entry.update(llm_config.pop("entry", {}))
    return OpenAIWrapper(config_list=[entry], **llm_config)


async def test_plain_reply_usage_and_cost(openai_server):
    openai_server.add({"content": "Hi there", "usage": [1000, 2000]})
    w = wrapper(openai_server)
    response = await w.a_create(HI)
    assert response.message == {"role": "assistant", "content": "Hi there"}
    assert (response.prompt_tokens, response.completion_tokens) == (1000, 2000)
    assert response.cost == pytest.approx(0.00015 + 2 * 0.0006)  # gpt-4o-mini table price
    body = openai_server.requests[-1]
    assert body["model"] == "gpt-4o-mini" and body["messages"] == HI
    assert openai_server.headers[-1]["authorization"] == f"Bearer {SECRET_KEY}"


async def test_generation_params_pass_through_and_unknown_ones_go_in_the_body(openai_server):
    w = wrapper(openai_server, temperature=0.2, max_tokens=50, entry={"top_k": 40})
    await w.a_create(HI, params={"stop": ["END"]})
    body = openai_server.requests[-1]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 50 and body["stop"] == ["END"]
    assert body["top_k"] == 40  # not an OpenAI parameter, but vLLM/llama.cpp accept it
    assert "api_key" not in body and "cache_seed" not in body


async def test_tool_calls_with_invalid_json_arguments_are_returned_unchanged(openai_server):
    openai_server.add({"tool_calls": [{"name": "add", "arguments": '{"a": 1, "b": '}]})
    tools = [{"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {}}}}]
    response = await wrapper(openai_server).a_create(HI, tools=tools)
    [call] = response.message["tool_calls"]
    assert call["function"] == {"name": "add", "arguments": '{"a": 1, "b": '}
    assert call["id"].startswith("call_") and response.message["content"] is None
    assert openai_server.requests[-1]["tools"] == tools


async def test_streaming_emits_tokens_and_gives_the_same_message(openai_server):
    plain_reply = {"content": "one two three", "tool_calls": [{"name": "f", "arguments": '{"x": [1, 2]}'}]}
    openai_server.add(dict(plain_reply), dict(plain_reply))
    plain = await wrapper(openai_server).a_create(HI)
    with events.capture(kinds=(events.TokenStreamed,)) as captured:
        streamed = await wrapper(openai_server, stream=True).a_create(HI, agent="assistant")
    assert [e.token for e in captured.events] == ["one ", "two ", "three"]
    assert all(e.agent == "assistant" for e in captured.events)
    for message in (plain.message, streamed.message):
        for call in message["tool_calls"]:
            call.pop("id")
    assert streamed.message == plain.message
    assert streamed.prompt_tokens == plain.prompt_tokens and streamed.completion_tokens == plain.completion_tokens
    assert openai_server.requests[-1]["stream"] is True


async def test_429_with_retry_after_longer_than_the_backoff_is_honoured(openai_server, waits):
    # Plain backoff waits at most 0.5 s before the first retry and 1 s before the second.
    openai_server.add({"status": 429, "retry_after": "7"}, {"status": 503}, {"status": 429, "retry_after": "3600"}, {"content": "finally"})
    with events.capture(kinds=(events.Notice,)) as captured:
        response = await wrapper(openai_server).a_create(HI)
    assert response.message["content"] == "finally"
    assert len(openai_server.requests) == 4
    assert waits[0] == 7.0
    assert 0.5 <= waits[1] <= 1.0  # no Retry-After: the backoff's second step
    assert waits[2] == 30.0  # the header's hour, capped at max_delay
    assert "HTTP 429" in captured.events[0].text and "retry 1/3 in 7.00 s" in captured.events[0].text


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"malformed": True}, {"drop": True}])
async def test_transient_faults_are_retried(openai_server, fault):
    openai_server.add(fault, {"content": "recovered"})
    response = await wrapper(openai_server).a_create(HI)
    assert response.message["content"] == "recovered"
    assert len(openai_server.requests) == 2


async def test_connection_dropped_mid_stream_is_retried_and_the_final_message_is_whole(openai_server):
    openai_server.add({"content": "alpha beta gamma", "drop": True}, {"content": "alpha beta gamma"})
    response = await wrapper(openai_server, stream=True).a_create(HI)
    assert response.message["content"] == "alpha beta gamma"
    assert len(openai_server.requests) == 2


async def test_response_slower_than_the_timeout_is_retried(openai_server):
    openai_server.add({"delay": 2.0, "content": "too late"}, {"content": "in time"})
    response = await wrapper(openai_server, timeout=0.5).a_create(HI)
    assert response.message["content"] == "in time"


async def test_retries_run_out_then_the_error_names_the_endpoint(openai_server):
    openai_server.add(*[{"status": 503}] * 3)
    w = wrapper(openai_server, entry={"max_retries": 2})
    with pytest.raises(TransientModelError) as error:
        await w.a_create(HI)
    assert error.value.status == 503
    assert "gpt-4o-mini" in str(error.value) and openai_server.base_url in str(error.value)
    assert len(openai_server.requests) == 3


async def test_bad_request_and_content_filter_are_not_retried(openai_server):
    openai_server.add({"status": 400, "error": "bad things"})
    with pytest.raises(ModelError, match="HTTP 400") as error:
        await wrapper(openai_server).a_create(HI)
    assert not isinstance(error.value, TransientModelError)
    openai_server.add({"content": "", "finish_reason": "content_filter"})
    with pytest.raises(ModelError, match="content filter"):
        await wrapper(openai_server).a_create(HI)
    assert len(openai_server.requests) == 2


async def test_failover_to_the_next_entry_when_one_keeps_failing(openai_server):
    openai_server.add({"status": 500}, {"status": 500}, {"content": "from backup"})
    w = OpenAIWrapper(config_list=[
        {"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY, "max_retries": 1},
        {"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY},
    ])
    with events.capture(kinds=(events.Notice,)) as captured:
        response = await w.a_create(HI)
    assert response.message["content"] == "from backup"
    assert [body["model"] for body in openai_server.requests] == ["gpt-4o", "gpt-4o", "gpt-4o-mini"]
    assert any("trying the next config entry" in e.text for e in captured.events)


async def test_azure_deployment_route(openai_server):
    w = OpenAIWrapper(config_list=[{
        "model": "my-gpt4o", "api_type": "azure", "base_url": openai_server.azure_endpoint,
        "api_version": "2024-06-01", "api_key": SECRET_KEY,
    }])
    response = await w.a_create(HI)
    assert response.model == "my-gpt4o"
    assert openai_server.headers[-1]["api-key"] == SECRET_KEY


async def test_one_sdk_client_per_endpoint_and_loop(openai_server):
    a = build_client({"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY})
    b = build_client({"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY})
    c = build_client({"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": "another-key"})
    assert isinstance(a, RetryingClient) and isinstance(a.client, OpenAIClient)
    shared = await a.client.sdk_client()
    assert shared is await b.client.sdk_client()
    assert shared is not await c.client.sdk_client()
    import openai

    assert isinstance(shared, openai.AsyncOpenAI)
    other_loop = await asyncio.to_thread(lambda: asyncio.run(_sdk_client_in_new_loop(a.client)))
    assert other_loop is not shared
    assert other_loop.is_closed()  # closed when its loop shut down


async def _sdk_client_in_new_loop(client):
    sdk = await client.sdk_client()
    await sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    return sdk


def test_config_errors_come_before_any_request(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    # A missing API key is not a build-time error (classic): it fails the first request, naming the variable.
    without_key = OpenAIWrapper(config_list=[{"model": "gpt-4o"}])
    with pytest.raises(ModelConfigError, match="no 'api_key' and \\$OPENAI_API_KEY is not set"):
        without_key.create(messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(ModelConfigError, match="ANTHROPIC_API_KEY"):
        OpenAIWrapper(config_list=[{"model": "claude-3-5-sonnet", "api_type": "anthropic"}]).create(messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(ModelConfigError, match="api_version"):
        OpenAIWrapper(config_list=[{"model": "x", "api_type": "azure", "base_url": "https://r.openai.azure.com", "api_key": "k"}])
    with pytest.raises(ModelConfigError) as error:
        OpenAIWrapper(config_list=[{"model": "x", "api_type": "gemini", "api_key": "k"}])
    assert "unknown api_type 'gemini'" in str(error.value)
    assert "openai, azure, anthropic, local, scripted" in str(error.value)
    with pytest.raises(ModelConfigError, match="price"):
        OpenAIWrapper(config_list=[{"model": "x", "base_url": "http://127.0.0.1:1/v1", "price": [1]}])
    # A local OpenAI-compatible server needs no key.
    OpenAIWrapper(config_list=[{"model": "llama3", "base_url": "http://127.0.0.1:11434/v1"}])


async def test_scripted_entry_through_providers():
    w = OpenAIWrapper(config_list=[{"model": "s", "api_type": "scripted", "replies": ["a", "b"]}])
    assert (await w.a_create(HI)).message["content"] == "a"
    assert (await w.a_create(HI)).message["content"] == "b"


async def test_price_in_the_entry_overrides_the_table(openai_server):
    openai_server.add({"content": "x", "usage": [1000, 1000]})
    w = wrapper(openai_server, entry={"price": [1.0, 2.0]})
    assert (await w.a_create(HI)).cost == pytest.approx(3.0)
    openai_server.add({"content": "x", "usage": [1000, 1000]})
    w = wrapper(openai_server, price=[0.5, 0.5])  # llm_config-level price applies to every entry
    assert (await w.a_create(HI)).cost == pytest.approx(1.0)


def streamed(captured: events.capture) -> list:
    """The tokens and notices a streamed call showed, in order (notices as ("notice", text))."""
    return [e.token if isinstance(e, events.TokenStreamed) else ("notice", e.text) for e in captured.events
            if isinstance(e, events.TokenStreamed) or (isinstance(e, events.Notice) and "retry" not in e.text)]


async def test_a_retried_stream_shows_the_reply_once(openai_server):
    openai_server.add({"content": "alpha beta gamma", "drop": True}, {"content": "alpha beta gamma"})
    with events.capture() as captured:
        await wrapper(openai_server, stream=True).a_create(HI)
    assert "".join(streamed(captured)) == "alpha beta gamma"  # not "alpha alpha beta gamma"


async def test_a_retried_stream_that_differs_is_shown_in_full_after_a_notice(openai_server):
    openai_server.add({"content": "alpha beta", "drop": True}, {"content": "delta epsilon"})
    with events.capture() as captured:
        response = await wrapper(openai_server, stream=True).a_create(HI)
    assert response.message["content"] == "delta epsilon"
    shown = streamed(captured)
    assert shown[0] == "alpha "  # what the dropped attempt showed
    assert "differs from the part streamed above" in shown[1][1]
    assert "".join(shown[2:]) == "delta epsilon"


async def test_failover_after_a_dropped_stream_goes_on_where_it_stopped(openai_server):
    first = {"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY, "max_retries": 0}
    w = OpenAIWrapper(config_list=[first, {**first, "model": "gpt-4o"}], stream=True)
    openai_server.add({"content": "alpha beta gamma", "drop": True}, {"content": "alpha beta gamma delta"})
    with events.capture() as captured:
        await w.a_create(HI)
    tokens = [e.token for e in captured.events if isinstance(e, events.TokenStreamed)]
    assert "".join(tokens) == "alpha beta gamma delta"
    assert [body["model"] for body in openai_server.requests] == ["gpt-4o-mini", "gpt-4o"]


def test_the_classic_sync_create_and_extract(openai_server):
    """Classic ``OpenAIWrapper(config_list=...).create(messages=...)``, called without an event loop."""
    openai_server.add({"content": "4", "usage": [1000, 2000]}, {"tool_calls": [{"name": "add", "arguments": '{"a": 2}'}]})
    client = OpenAIWrapper(config_list=[{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}])
    response = client.create(messages=[{"role": "user", "content": "{question}"}], context={"question": "2+2="},
                             allow_format_str_template=True, temperature=0)
    assert client.extract_text_or_completion_object(response) == ["4"]
    assert response.choices[0].message.content == "4" and response.model == "gpt-4o-mini"
    assert (response.usage.prompt_tokens, response.usage.total_tokens) == (1000, 3000)
    assert response.cost == pytest.approx(0.00015 + 2 * 0.0006)
    body = openai_server.requests[-1]
    assert body["messages"] == [{"role": "user", "content": "2+2="}] and body["temperature"] == 0

    [message] = client.extract_text_or_completion_object(client.create(messages=HI))
    assert message.tool_calls[0].function.name == "add" and message.tool_calls[0].function.arguments == '{"a": 2}'
    assert client.total_usage_summary["gpt-4o-mini"]["total_tokens"] > 3000
    with pytest.raises(TypeError, match=r"needs messages=\["):
        client.create(messages="not a list")


async def test_extra_headers_query_and_body_are_request_options_not_body_fields(openai_server, anthropic_server):
    # As in the SDKs' create(): headers and query parameters go on the request, extra_body's
    # fields into the body; none of the three is sent as a field of its own.
    options = {"extra_headers": {"X-Trace": "t-1"}, "extra_query": {"tenant": "a b"}, "extra_body": {"guided_choice": ["x", "y"]}}
    for server, entry in ((openai_server, {}), (anthropic_server, {"api_type": "anthropic"})):
        await wrapper(server, entry={**entry, "default_query": {"region": "eu"}}).a_create(HI, params=options)
        body = server.requests[-1]
        assert body["guided_choice"] == ["x", "y"] and not {"extra_headers", "extra_query", "extra_body", "default_query"} & body.keys()
        assert server.headers[-1]["x-trace"] == "t-1"
        path, _, query = server.paths[-1].partition("?")
        assert path.endswith("/messages" if entry else "/chat/completions")
        assert dict(urllib.parse.parse_qsl(query)) == {"region": "eu", "tenant": "a b"}


async def test_base_url_query_and_user_info_reach_the_server(openai_server):
    base = openai_server.base_url.replace("http://", "http://gw%40corp:p%3Ass@") + "?deployment=blue"
    await wrapper(openai_server, entry={"base_url": base}).a_create(HI)
    assert openai_server.paths[-1] == "/v1/chat/completions?deployment=blue"
    # user-info is Basic auth, as classic's httpx sent it (it replaces the key's bearer header)
    assert openai_server.headers[-1]["authorization"] == "Basic " + base64.b64encode(b"gw@corp:p:ss").decode()


def test_classic_filter_func_passes_a_reply_over_for_the_next_entrys(openai_server):
    openai_server.add({"content": "too short"}, {"content": "a long enough answer"}, {"content": "short"}, {"content": "short"})
    entries = [{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}, {
        "model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY}]
    seen = []

    def long_enough(context, response):
        seen.append((context, response.choices[0].message.content))
        return len(response.choices[0].message.content) > 10

    w = OpenAIWrapper(config_list=entries)
    reply = w.create(messages=HI, filter_func=long_enough, context={"task": "x"})
    assert reply.choices[0].message.content == "a long enough answer"
    assert seen == [({"task": "x"}, "too short"), ({"task": "x"}, "a long enough answer")]
    assert [body["model"] for body in openai_server.requests] == ["gpt-4o-mini", "gpt-4o"]
    assert all("filter_func" not in body and "context" not in body for body in openai_server.requests)
    # The last entry's reply is returned even when the filter refuses it, as classic does.
    assert w.create(messages=HI, filter_func=long_enough).choices[0].message.content == "short"
    with pytest.raises(TypeError, match="filter_func must be callable"):
        w.create(messages=HI, filter_func="long")


async def test_openai_client_settings_are_client_config_not_body_fields(openai_server):
    await wrapper(openai_server, entry={"project": "proj_1", "azure_deployment": "d", "websocket_base_url": "ws://x"}).a_create(HI)
    body = openai_server.requests[-1]
    assert not {"project", "azure_deployment", "websocket_base_url"} & body.keys()
    assert openai_server.headers[-1]["openai-project"] == "proj_1"
