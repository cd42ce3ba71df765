"""What classic ``OpenAIWrapper.create`` returns (the openai SDK's ChatCompletion with classic's
extra attributes) and how ``print_usage_summary`` reads, against the fake OpenAI server."""

from __future__ import annotations

import subprocess
import sys

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionMessage

import parley
from parley.models.wrapper import OpenAIWrapper

from .conftest import SECRET_KEY

HI = [{"role": "user", "content": "2+2?"}]


def entry(server, model="gpt-4o-mini"):
    return {"model": model, "base_url": server.base_url, "api_key": SECRET_KEY}


def test_create_returns_the_sdks_chat_completion_with_classics_attributes(openai_server):
    openai_server.add({"content": "4", "usage": [2, 6]}, {"tool_calls": [{"name": "add", "arguments": '{"a": 2}'}]})
    client = OpenAIWrapper(config_list=[entry(openai_server)])
    response = client.create(messages=HI)
    assert isinstance(response, ChatCompletion)
    assert response.id.startswith("chatcmpl-") and isinstance(response.created, int) and response.created > 0
    assert response.object == "chat.completion" and response.model == "gpt-4o-mini"
    assert response.choices[0].message.content == "4" and response.choices[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (2, 6, 8)
    assert response.cost == pytest.approx(2 * 0.15e-6 + 6 * 0.6e-6)
    assert (response.config_id, response.pass_filter) == (0, True)
    assert client.extract_text_or_completion_object(response) == ["4"]

    calling = client.create(messages=HI)
    [message] = client.extract_text_or_completion_object(calling)
    assert isinstance(message, ChatCompletionMessage) and calling.choices[0].finish_reason == "tool_calls"
    assert message.tool_calls[0].function.name == "add" and message.tool_calls[0].function.arguments == '{"a": 2}'
    assert calling.id != response.id


def test_config_id_and_pass_filter_say_which_entry_answered_and_what_the_filter_said(openai_server):
    openai_server.add({"content": "short"}, {"content": "short too"}, {"content": "a long enough answer"})
    client = OpenAIWrapper(config_list=[entry(openai_server), entry(openai_server, "gpt-4o")])

    def long_enough(context, response):
        assert isinstance(response, ChatCompletion)
        return len(response.choices[0].message.content) > 10

    refused = client.create(messages=HI, filter_func=long_enough)
    assert refused.choices[0].message.content == "short too"
    assert (refused.config_id, refused.pass_filter) == (1, False)  # the last entry's reply, refused
    accepted = client.create(messages=HI, filter_func=long_enough)
    assert accepted.choices[0].message.content == "a long enough answer"
    assert (accepted.config_id, accepted.pass_filter) == (0, True)


def test_a_cached_reply_is_a_chat_completion_too(openai_server, tmp_path):
    openai_server.add({"content": "4"})
    client = OpenAIWrapper(config_list=[entry(openai_server)])
    with parley.Cache.disk(cache_seed=7, cache_path_root=str(tmp_path)) as cache:
        first = client.create(messages=HI, cache=cache)
        second = client.create(messages=HI, cache=cache)
    assert isinstance(second, ChatCompletion) and second.id and second.created > 0
    assert second.choices[0].message.content == first.choices[0].message.content == "4"
    assert (second.config_id, second.cost) == (0, first.cost)
    assert len(openai_server.requests) == 1


def test_without_the_openai_sdk_create_returns_a_stand_in_of_the_same_shape():
    # A fresh interpreter where importing openai fails, as on an install without the SDK.
    code = """
import sys
sys.modules["openai"] = None
import parley
from parley.models.wrapper import OpenAIWrapper
client = OpenAIWrapper(config_list=[{"model": "s", "client": parley.ScriptedModelClient(["four"])}])
r = client.create(messages=[{"role": "user", "content": "2+2?"}])
print(type(r).__module__, r.choices[0].message.content, r.id.startswith("chatcmpl-"), r.created > 0, r.config_id, r.pass_filter)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["parley.models.completion", "four", "True", "True", "0", "True"]


def test_importing_parley_does_not_import_openai():
    code = "import sys, parley; print('openai' in sys.modules, 'openai.types.chat' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.split() == ["False", "False"]


def usage_text(client, mode=("actual", "total")) -> str:
    stream = parley.IOQueue()
    with parley.IOStream.set_default(stream):
        client.print_usage_summary(mode)
    return stream.output


def test_print_usage_summary_reads_as_classics(openai_server, tmp_path):
    openai_server.add({"content": "4", "usage": [2, 6]})
    client = OpenAIWrapper(config_list=[{**entry(openai_server), "price": [0.5, 1.0]}])
    assert usage_text(client).strip() == 'No usage summary. Please call "create" first.'
    with parley.Cache.disk(cache_seed=3, cache_path_root=str(tmp_path)) as cache:
        client.create(messages=HI, cache=cache)
        assert usage_text(client).splitlines() == [
            "-" * 100,
            "Usage summary excluding cached usage: ",
            "Total cost: 0.007",
            "* Model 'gpt-4o-mini': cost: 0.007, prompt_tokens: 2, completion_tokens: 6, total_tokens: 8",
            "",
            "All completions are non-cached: the total cost with cached completions is the same as actual cost.",
            "-" * 100,
        ]
        client.create(messages=HI, cache=cache)
    assert usage_text(client).splitlines() == [
        "-" * 100,
        "Usage summary excluding cached usage: ",
        "Total cost: 0.007",
        "* Model 'gpt-4o-mini': cost: 0.007, prompt_tokens: 2, completion_tokens: 6, total_tokens: 8",
        "",
        "Usage summary including cached usage: ",
        "Total cost: 0.014",
        "* Model 'gpt-4o-mini': cost: 0.014, prompt_tokens: 4, completion_tokens: 12, total_tokens: 16",
        "-" * 100,
    ]
    assert usage_text(client, "total").splitlines()[1:3] == ["Usage summary including cached usage: ", "Total cost: 0.014"]
    with pytest.raises(ValueError, match='Invalid mode: both, choose from "actual", "total"'):
        client.print_usage_summary("both")


def test_a_reply_outside_the_sdks_types_comes_back_in_the_stand_in():
    # A custom client's tool call without an id: the SDK's model refuses it, the stand-in keeps it.
    call = {"id": None, "type": "function", "function": {"name": "add", "arguments": "{}"}}
    client = OpenAIWrapper(config_list=[{"model": "s", "client": parley.ScriptedModelClient([{"content": None, "tool_calls": [call]}])}])
    response = client.create(messages=HI)
    assert not isinstance(response, ChatCompletion) and type(response).__module__ == "parley.models.completion"
    [message] = client.extract_text_or_completion_object(response)
    assert message.tool_calls[0].function.name == "add" and (response.config_id, response.pass_filter) == (0, True)


def test_legacy_prompt_becomes_the_users_message(openai_server):
    openai_server.add({"content": "Paris"}, {"content": "Rome"})
    client = OpenAIWrapper(config_list=[entry(openai_server)])
    assert client.extract_text_or_completion_object(client.create(prompt="Capital of France?")) == ["Paris"]
    assert openai_server.requests[0]["messages"] == [{"role": "user", "content": "Capital of France?"}]
    client.create(prompt="Capital of {country}?", context={"country": "Italy"}, allow_format_str_template=True)
    assert openai_server.requests[1]["messages"] == [{"role": "user", "content": "Capital of Italy?"}]
    with pytest.raises(ValueError, match=r"Either prompt or messages should be in create config but not both\."):
        client.create(prompt="x", messages=HI)
    with pytest.raises(ValueError, match="Either prompt or messages"):
        client.create()


def test_n_choices_all_come_back_and_are_cached(openai_server, tmp_path):
    from parley.cache import Cache

    openai_server.add({"content": "one", "choices": ["two", "three"]})
    client = OpenAIWrapper(config_list=[entry(openai_server)])
    with Cache.disk(cache_seed=5, cache_path_root=str(tmp_path)) as cache:
        first = client.create(messages=HI, n=3, cache=cache)
        again = client.create(messages=HI, n=3, cache=cache)
    assert openai_server.requests[0]["n"] == 3 and len(openai_server.requests) == 1
    for response in (first, again):
        assert client.extract_text_or_completion_object(response) == ["one", "two", "three"]
        assert [c.index for c in response.choices] == [0, 1, 2]


def test_seed_is_sent_and_cache_seed_never_is(openai_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    openai_server.add({"content": "a"}, {"content": "b"}, {"content": "c"})
    client = OpenAIWrapper(config_list=[{**entry(openai_server), "cache_seed": 3}], seed=7, cache_seed=None)
    client.create(messages=HI)
    client.create(messages=HI, cache_seed=9)
    assert [r.get("seed") for r in openai_server.requests] == [7, 7]
    assert not any("cache_seed" in r for r in openai_server.requests)
    client.create(messages=HI, cache_seed=9)  # a cache key: the same request is answered from the cache
    assert len(openai_server.requests) == 2


def test_streamed_legacy_function_call_is_folded(openai_server):
    add = {"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "number"}}}}
    openai_server.add({"function_call": {"name": "add", "arguments": '{"a": 12}'}})
    client = OpenAIWrapper(config_list=[entry(openai_server)], functions=[add], stream=True)
    response = client.create(messages=HI)
    assert openai_server.requests[0]["functions"] == [add] and openai_server.requests[0]["stream"] is True
    [message] = client.extract_text_or_completion_object(response)
    assert message.function_call.name == "add" and message.function_call.arguments == '{"a": 12}'
    assert response.choices[0].finish_reason == "function_call"


def test_a_string_seed_is_only_a_cache_key(openai_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    openai_server.add({"content": "a"})
    client = OpenAIWrapper(config_list=[entry(openai_server)], seed="run1")
    assert client.create(messages=HI).choices[0].message.content == "a"
    assert client.create(messages=HI).choices[0].message.content == "a"  # from the cache
    assert len(openai_server.requests) == 1 and "seed" not in openai_server.requests[0]


def test_streamed_n_choices_stay_apart(openai_server):
    from parley import events

    openai_server.add({"content": "one two", "choices": ["three", "four"]})
    client = OpenAIWrapper(config_list=[entry(openai_server)], stream=True)
    with events.capture(kinds=(events.TokenStreamed,)) as seen:
        response = client.create(messages=HI, n=3)
    assert client.extract_text_or_completion_object(response) == ["one two", "three", "four"]
    assert "".join(e.token for e in seen.events) == "one two"  # only the first choice is shown as it streams
