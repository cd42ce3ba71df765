"""Agents talking to the fake servers through the providers: the classic scripts' shape."""

import json

import pytest

import parley
from parley import events

from .conftest import SECRET_KEY


def test_seed_style_chat_with_disk_cache_and_cost_split(openai_server, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps([
        {"model": "gpt-4o", "base_url": openai_server.base_url, "api_key": SECRET_KEY},
        {"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY},
    ]))
    config_list = parley.config_list_from_json(env_or_file="OAI_CONFIG_LIST", filter_dict={"model": "gpt-4o-mini"})
    openai_server.default = {"content": "Done. TERMINATE", "usage": [1000, 1000]}
    assistant = parley.AssistantAgent("assistant", llm_config={"config_list": config_list, "temperature": 0})
    user = parley.UserProxyAgent(
        "user", human_input_mode="NEVER", code_execution_config=False,
        is_termination_msg=lambda m: (m.get("content") or "").rstrip().endswith("TERMINATE"),  # as the seed does
    )
    with parley.Cache.disk(cache_seed=42, cache_path_root=str(tmp_path / "c")) as cache:
        first = user.initiate_chat(assistant, message="Plot a chart.", cache=cache)
        second = user.initiate_chat(assistant, message="Plot a chart.", cache=cache)
    assert first.chat_history[-1]["content"] == "Done. TERMINATE"
    assert second.chat_history == first.chat_history
    assert len(openai_server.requests) == 1  # the second chat came from the cache
    body = openai_server.requests[0]
    assert body["model"] == "gpt-4o-mini" and body["temperature"] == 0
    assert body["messages"][0]["role"] == "system"
    one_call = 0.00015 + 0.0006
    assert second.cost["usage_including_cached_inference"]["total_cost"] == pytest.approx(2 * one_call)
    assert second.cost["usage_excluding_cached_inference"]["total_cost"] == pytest.approx(one_call)


def test_streamed_chat_emits_tokens_and_stores_the_whole_reply(openai_server):
    openai_server.default = {"content": "streamed words here"}
    config = {"config_list": [{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}], "stream": True}
    assistant = parley.AssistantAgent("assistant", llm_config=config)
    user = parley.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    with events.capture(kinds=(events.TokenStreamed,)) as captured:
        result = user.initiate_chat(assistant, message="Go.", max_turns=1)
    assert "".join(e.token for e in captured.events) == "streamed words here"
    assert result.chat_history[-1]["content"] == "streamed words here"


def test_group_chat_on_claude_keeps_the_messages_api_happy(anthropic_server):
    """Several agents in a row are all "user" to the model: the strict fake rejects a bad conversion."""
    anthropic_server.default = {"content": "noted"}
    config = {"config_list": [{"model": "claude-3-5-sonnet", "api_type": "anthropic", "base_url": anthropic_server.base_url, "api_key": SECRET_KEY}]}
    agents = [parley.AssistantAgent(name, llm_config=config, system_message=f"You are {name}.") for name in ("planner", "critic", "writer")]
    user = parley.UserProxyAgent("admin", human_input_mode="NEVER", code_execution_config=False)
    groupchat = parley.GroupChat(agents=[user, *agents], messages=[], max_round=5, speaker_selection_method="round_robin")
    manager = parley.GroupChatManager(groupchat=groupchat, llm_config=config)
    result = user.initiate_chat(manager, message="Write a haiku.")
    assert [m["content"] for m in result.chat_history[1:4]] == ["noted"] * 3
    assert len(anthropic_server.requests) == 3
    last = anthropic_server.requests[-1]
    assert last["system"] == "You are writer."
    assert [m["role"] for m in last["messages"]] == ["user"]  # admin, planner, critic: merged into one user turn


def test_classic_legacy_functions_are_sent_as_functions_and_run_from_the_function_map(openai_server):
    add_schema = {"name": "add", "description": "Add two numbers.",
                  "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}
    config = {"config_list": [{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}],
              "functions": [add_schema]}
    openai_server.add({"function_call": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}, {"content": "It is 3. TERMINATE"})
    assistant = parley.AssistantAgent("assistant", llm_config=config)
    user = parley.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False,
                                 function_map={"add": lambda a, b: a + b},
                                 is_termination_msg=lambda m: (m.get("content") or "").endswith("TERMINATE"))
    result = user.initiate_chat(assistant, message="What is 1 + 2?")
    # As classic: the legacy schemas go out as ``functions``; the model answers with a function_call.
    assert openai_server.requests[0]["functions"] == [add_schema] and "tools" not in openai_server.requests[0]
    assert result.chat_history[1]["function_call"] == {"name": "add", "arguments": '{"a": 1, "b": 2}'}
    assert result.chat_history[2] == {"content": "3", "name": "add", "role": "function"}
    assert result.chat_history[-1]["content"] == "It is 3. TERMINATE"
    assert {"content": "3", "name": "add", "role": "function"} in openai_server.requests[1]["messages"]

    assert user.can_execute_function("add") and not user.can_execute_function(["add", "mul"])
    assert user.execute_function({"name": "add", "arguments": '{"a": 2, "b": 2}'}) == (
        True, {"name": "add", "role": "function", "content": "4"})
    ok, message = user.execute_function({"name": "mul", "arguments": "{}"})
    assert not ok and "Function mul not found" in message["content"]

    assistant.update_function_signature("add", is_remove=True)
    assert "functions" not in assistant.llm_config and assistant.client.tools is None
    assistant.update_function_signature(add_schema, is_remove=False)
    assert assistant.client.tools == [{"type": "function", "function": add_schema}]
    with pytest.warns(UserWarning, match="Function 'add' is being overridden."):  # classic: replaced, with a warning
        assistant.update_function_signature(add_schema, is_remove=False)
    assert assistant.client.tools == [{"type": "function", "function": add_schema}]


def test_a_classic_reply_function_calls_the_client_synchronously_inside_a_chat(openai_server):
    """Classic reply functions call ``self.client.create(...)`` and extract the text, mid-chat."""
    openai_server.default = {"content": "from the server"}
    config = {"config_list": [{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}]}
    assistant = parley.AssistantAgent("assistant", llm_config=config)

    def shouting_reply(recipient, messages=None, sender=None, config=None):
        response = recipient.client.create(messages=messages[-1:], cache=None)
        return True, recipient.client.extract_text_or_completion_object(response)[0].upper()

    assistant.register_reply([parley.Agent, None], shouting_reply)
    user = parley.UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    first = user.initiate_chat(assistant, message="hello", max_turns=1)
    second = user.initiate_chat(assistant, message="again", max_turns=1)  # the SDK client survives the first chat
    assert first.chat_history[-1]["content"] == second.chat_history[-1]["content"] == "FROM THE SERVER"
    assert [body["messages"] for body in openai_server.requests] == [[{"role": "user", "content": "hello", "name": "user"}],
                                                                    [{"role": "user", "content": "again", "name": "user"}]]
