"""Bad input gets a clear error naming the parameter."""

from __future__ import annotations

import pytest

from parley import AssistantAgent, ConversableAgent, UserProxyAgent
from tests.conftest import scripted_config


def test_unknown_human_input_mode():
    with pytest.raises(ValueError, match="human_input_mode"):
        ConversableAgent("a", human_input_mode="SOMETIMES")


def test_empty_llm_config_and_empty_config_list():
    with pytest.raises(ValueError, match="llm_config is empty"):
        ConversableAgent("a", llm_config={})
    with pytest.raises(ValueError, match="config_list'] is empty"):
        ConversableAgent("a", llm_config={"config_list": []})
    with pytest.raises(ValueError, match=r"\['model'\]"):
        ConversableAgent("a", llm_config={"config_list": [{"model": ""}]})


def test_non_callable_termination_check():
    with pytest.raises(TypeError, match="is_termination_msg"):
        ConversableAgent("a", is_termination_msg="TERMINATE")


def test_bad_message_type():
    user = UserProxyAgent("u", human_input_mode="NEVER", code_execution_config=False)
    assistant = AssistantAgent("a", llm_config=scripted_config(["x"]))
    with pytest.raises(TypeError, match="message must be"):
        user.initiate_chat(assistant, message=42)
    assert user.chat_messages[assistant] == []


def test_bad_summary_method_and_max_turns():
    user = UserProxyAgent("u", human_input_mode="NEVER", code_execution_config=False)
    assistant = AssistantAgent("a", llm_config=scripted_config(["x"]))
    with pytest.raises(ValueError, match="summary_method"):
        user.initiate_chat(assistant, message="x", summary_method="magic")
    with pytest.raises(ValueError, match="max_turns"):
        user.initiate_chat(assistant, message="x", max_turns=-1)


def test_bad_code_execution_config_and_name():
    with pytest.raises(TypeError, match="code_execution_config"):
        ConversableAgent("a", code_execution_config="yes")
    with pytest.raises(ValueError, match="name"):
        ConversableAgent("")


def test_message_without_content_is_rejected_and_history_kept():
    user = UserProxyAgent("u", human_input_mode="NEVER", code_execution_config=False)
    assistant = AssistantAgent("a", llm_config=scripted_config(["x"]))
    user.send("kept", assistant, request_reply=False)
    with pytest.raises(ValueError, match="content or function_call"):
        user.send({"foo": "bar"}, assistant)
    assert [m["content"] for m in assistant.chat_messages[user]] == ["kept"]


def test_keyboard_interrupt_ends_chat_and_keeps_messages():
    calls = []

    def model(request):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return "more"

    user = UserProxyAgent("u", human_input_mode="NEVER", code_execution_config=False)
    assistant = AssistantAgent("a", llm_config=scripted_config(model))
    with pytest.raises(KeyboardInterrupt):
        user.initiate_chat(assistant, message="start")
    assert [m["content"] for m in user.chat_messages[assistant]] == ["start", "more", "", "more", ""]
    # the engine is still usable afterwards
    assistant2 = AssistantAgent("a2", llm_config=scripted_config(["fine TERMINATE"]))
    assert user.initiate_chat(assistant2, message="again", max_turns=1).summary == "fine"


OK_ENTRY = {"model": "gpt-4o-mini", "base_url": "http://127.0.0.1:9/v1", "api_key": "k"}


@pytest.mark.parametrize("llm_config, message", [
    ({"model": 4, "api_key": "k"}, r"llm_config\['model'\] must be a non-empty string \(the model or deployment name\), got int 4"),
    ({"config_list": [{"model": ["gpt-4o"], "api_key": "k"}]},
     r"llm_config\['config_list'\]\[0\]\['model'\] must be a non-empty string .*got list \['gpt-4o'\]"),
    ({"config_list": [OK_ENTRY, {**OK_ENTRY, "api_key": 12345}]},
     r"llm_config\['config_list'\]\[1\]\['api_key'\] must be a string \(the provider's key\), got int$"),
    ({"config_list": [OK_ENTRY], "timeout": "soon"}, r"llm_config\['timeout'\] must be a number of seconds > 0 .*got str 'soon'"),
    ({"config_list": [{**OK_ENTRY, "timeout": -1}]}, r"llm_config\['config_list'\]\[0\]\['timeout'\] must be a number of seconds > 0"),
    ({"config_list": [OK_ENTRY], "cache_seed": [1]}, r"llm_config\['cache_seed'\] must be an int or a str \(or None for no caching\), got list \[1\]"),
    ({"config_list": [OK_ENTRY], "cache_seed": True}, r"llm_config\['cache_seed'\] must be an int or a str"),
    ({"config_list": [OK_ENTRY], "cache_seed": "../up"}, r"llm_config\['cache_seed'\] must be an int or a folder name"),
    ({"config_list": [OK_ENTRY], "temperature": "hot"}, r"llm_config\['temperature'\] must be a number, got str 'hot'"),
    ({"config_list": [{**OK_ENTRY, "max_tokens": 0}]}, r"\[0\]\['max_tokens'\] must be an int >= 1"),
    ({"config_list": [OK_ENTRY], "stop": 5}, r"llm_config\['stop'\] must be a string or a list of strings"),
    ({"config_list": [OK_ENTRY], "stream": "yes"}, r"llm_config\['stream'\] must be True or False"),
    ({"config_list": OK_ENTRY}, r"llm_config\['config_list'\] must be a list of config entries \(dicts\), not dict"),
    ({"config_list": ["gpt-4o"]}, r"llm_config\['config_list'\]\[0\] must be a dict, not str"),
    ({"config_list": [OK_ENTRY, {**OK_ENTRY, "api_type": "mistral"}]},
     r"llm_config\['config_list'\]\[1\]\['api_type'\]: unknown api_type 'mistral'; supported: openai, azure, anthropic, local, scripted"),
    ({"config_list": [{**OK_ENTRY, "base_url": "localhost:11434/v1"}]},
     r"\[0\]\['base_url'\] must be an http:// or https:// URL"),
    ({"config_list": [{**OK_ENTRY, "extra_headers": ["X-Api-Key: k"]}]},
     r"\[0\]\['extra_headers'\] must be a dict of header names to string values, got list"),
    ({"config_list": [{**OK_ENTRY, "tags": "fast"}]}, r"\[0\]\['tags'\] must be a list of strings"),
    ({"config_list": [OK_ENTRY, {**OK_ENTRY, "max_retries": "3"}]}, r"\[1\]\['max_retries'\] must be an int >= 0, got str '3'"),
    ({"config_list": [{**OK_ENTRY, "api_type": "azure", "api_version": 2024}]}, r"\[0\]\['api_version'\] must be a string, got int 2024"),
    ({"config_list": [{**OK_ENTRY, "extra_query": [("key", "v")]}]}, r"\[0\]\['extra_query'\] must be a dict, got list$"),
    ({"config_list": [OK_ENTRY], "tools": {"type": "function"}}, r"llm_config\['tools'\] must be a list of tool schemas"),
    ({"config_list": [{**OK_ENTRY, "top_p": [0.9]}]}, r"\[0\]\['top_p'\] must be a number, got list"),
])
def test_bad_llm_config_fields_are_named_when_the_agent_is_built(llm_config, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message) as error:
        AssistantAgent("a", llm_config=llm_config)
    assert "12345" not in str(error.value)  # a key's value is never shown, only its type
    assert list(tmp_path.iterdir()) == []  # nothing made on the way (cache_seed=[1] made a folder '[1]')


@pytest.mark.parametrize("llm_config", [
    {"config_list": [OK_ENTRY], "cache_seed": None},
    {"config_list": [OK_ENTRY], "cache_seed": 41, "temperature": 0, "timeout": 60, "max_tokens": 100, "stop": ["END"]},
    {"config_list": [OK_ENTRY], "seed": "experiment-2", "temperature": 0.5, "timeout": 2.5, "stream": True},
    {**OK_ENTRY, "api_type": "openai", "extra_headers": {"X-Trace": "1"}, "extra_query": {"a": "b"}, "tags": ["fast"]},
    {"config_list": [{"model": "m", "api_type": "azure", "base_url": "https://r.openai.azure.com", "api_key": "k",
                      "api_version": "2024-06-01"}]},
    {"config_list": [{**OK_ENTRY, "api_type": "open_ai"}, {**OK_ENTRY, "api_type": ""},  # classic's openai<1 name
                     {**OK_ENTRY, "api_type": "azure_ad", "api_version": "2024-06-01"}]},
])
def test_what_classic_accepts_is_accepted(llm_config):
    assert AssistantAgent("a", llm_config=llm_config).llm_config == llm_config


def test_cache_seed_in_create_and_in_cache_is_checked_before_any_folder_is_made(tmp_path, monkeypatch):
    from parley import Cache

    monkeypatch.chdir(tmp_path)
    assistant = AssistantAgent("a", llm_config=scripted_config(["x"]))
    with pytest.raises(TypeError, match=r"cache_seed must be an int or a str .*got list \[1\]"):
        assistant.client.create(messages=[{"role": "user", "content": "hi"}], cache_seed=[1])
    with pytest.raises(TypeError, match=r"cache_seed must be an int or a str .*got float 1.5"):
        Cache.disk(cache_seed=1.5)
    assert list(tmp_path.iterdir()) == []


def test_endpoint_fields_given_to_one_call_are_checked_like_entry_fields():
    from parley import OpenAIWrapper

    wrapper = OpenAIWrapper(config_list=[OK_ENTRY])
    with pytest.raises(ValueError, match=r"create\(\.\.\.\) with llm_config\['config_list'\]\[0\]\['api_key'\] must be a string .*got int$"):
        wrapper.create(messages=[{"role": "user", "content": "hi"}], api_key=12345)
    with pytest.raises(ValueError, match=r"\['base_url'\] must be an http:// or https:// URL"):
        wrapper.create(messages=[{"role": "user", "content": "hi"}], base_url="127.0.0.1:9")
    with pytest.raises(ValueError, match=r"create\(\.\.\.\)\['timeout'\] must be a number of seconds > 0 .*got str 'soon'"):
        wrapper.create(messages=[{"role": "user", "content": "hi"}], timeout="soon")
    with pytest.raises(ValueError, match=r"create\(\.\.\.\)\['temperature'\] must be a number, got str 'hot'"):
        wrapper.create(messages=[{"role": "user", "content": "hi"}], temperature="hot")
