"""The stored (``chat_messages`` / ``chat_history``) form of messages, key for key as classic
AutoGen 0.2's ``_append_oai_message`` makes it, and what the model is shown from it."""

from __future__ import annotations

import json

import pytest

import parley
from parley import (
    AssistantAgent,
    ConversableAgent,
    GroupChat,
    GroupChatManager,
    UserProxyAgent,
)


def tool_call(call_id: str, name: str, arguments: dict) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


class Model:
    """Replays ``replies`` and keeps a copy of the messages each request showed the model."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[list[dict]] = []

    def __call__(self, request):
        self.requests.append([dict(m) for m in request.messages])
        return self.replies[min(len(self.requests), len(self.replies)) - 1]


def make_pair(replies):
    model = Model(replies)
    assistant = AssistantAgent(
        "Assistant", llm_config={"config_list": [{"model": "s", "client": parley.ScriptedModelClient(model)}]}
    )
    user = UserProxyAgent("User", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=5)

    @user.register_for_execution()
    @assistant.register_for_llm(description="multiply")
    def multiply(a: int, b: int) -> int:
        return a * b

    return user, assistant, model


def test_tool_call_message_is_stored_without_a_name_and_tool_responses_with_the_senders():
    user, assistant, _model = make_pair(
        [{"content": None, "tool_calls": [tool_call("call_1", "multiply", {"a": 232, "b": 32})]}, "7424. TERMINATE"]
    )
    result = user.initiate_chat(assistant, message="232 * 32?", max_turns=2)
    calling, responding = result.chat_history[1], result.chat_history[2]
    assert calling["role"] == "assistant" and calling["content"] is None
    assert "name" not in calling  # classic forces role "assistant" and adds no name
    assert responding["role"] == "tool"
    assert responding["name"] == "User"  # the sender's name, as on any other message
    assert responding["tool_responses"] == [{"tool_call_id": "call_1", "role": "tool", "content": "7424"}]
    # Both agents' copies agree.
    assert "name" not in assistant.chat_messages[user][1]
    assert assistant.chat_messages[user][2]["name"] == "User"
    assert "name" not in user.chat_messages[assistant][1]
    assert user.chat_messages[assistant][2]["name"] == "User"
    # Plain text messages keep their sender's name.
    assert [m.get("name") for m in (result.chat_history[0], result.chat_history[3])] == ["User", "Assistant"]


def test_model_sees_tool_responses_as_nameless_tool_messages():
    user, assistant, model = make_pair(
        [{"content": None, "tool_calls": [tool_call("call_1", "multiply", {"a": 2, "b": 3})]}, "6. TERMINATE"]
    )
    user.initiate_chat(assistant, message="2 * 3?", max_turns=2)
    second = model.requests[1]
    assert second[-1] == {"tool_call_id": "call_1", "role": "tool", "content": "6"}
    assert "name" not in second[-2] and second[-2]["tool_calls"][0]["id"] == "call_1"


def test_hand_made_tool_message_gets_a_name_in_history_but_not_in_the_prompt():
    model = Model(["done"])
    assistant = AssistantAgent(
        "Assistant", llm_config={"config_list": [{"model": "s", "client": parley.ScriptedModelClient(model)}]}
    )
    user = ConversableAgent("User", llm_config=False, human_input_mode="NEVER")
    user.send({"content": None, "tool_calls": [tool_call("c1", "f", {})]}, assistant, request_reply=False)
    user.send({"role": "tool", "tool_call_id": "c1", "content": "42"}, assistant, request_reply=True)
    stored = assistant.chat_messages[user][1]
    assert stored == {"content": "42", "tool_call_id": "c1", "role": "tool", "name": "User"}
    assert model.requests[0][-1] == {"content": "42", "tool_call_id": "c1", "role": "tool"}
    assert "name" not in model.requests[0][-2]


def test_legacy_function_call_is_stored_without_a_name():
    a = ConversableAgent("a", llm_config=False, human_input_mode="NEVER")
    b = ConversableAgent("b", llm_config=False, human_input_mode="NEVER")
    a.send({"function_call": {"name": "get_weather", "arguments": "{}"}}, b, request_reply=False)
    a.send({"role": "function", "name": "get_weather", "content": "sunny"}, b, request_reply=False)
    assert a.chat_messages[b] == [
        {"function_call": {"name": "get_weather", "arguments": "{}"}, "content": None, "role": "assistant"},
        {"content": "sunny", "name": "get_weather", "role": "function"},
    ]
    assert b.chat_messages[a][0] == {"function_call": {"name": "get_weather", "arguments": "{}"}, "content": None, "role": "assistant"}


def test_group_chat_keeps_speaker_names_on_tool_messages():
    model = Model([{"content": None, "tool_calls": [tool_call("call_1", "multiply", {"a": 4, "b": 5})]}, "20. TERMINATE"])
    assistant = AssistantAgent(
        "Assistant", llm_config={"config_list": [{"model": "s", "client": parley.ScriptedModelClient(model)}]}
    )
    user = UserProxyAgent("User", human_input_mode="NEVER", code_execution_config=False, default_auto_reply="")

    @user.register_for_execution()
    @assistant.register_for_llm(description="multiply")
    def multiply(a: int, b: int) -> int:
        return a * b

    groupchat = GroupChat([user, assistant], messages=[], max_round=4, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    user.initiate_chat(manager, message="4 * 5?")
    names = [(m.get("role"), m.get("name")) for m in groupchat.messages]
    assert names[:4] == [("user", "User"), ("assistant", "Assistant"), ("tool", "User"), ("user", "Assistant")]
    # The model is never shown a named tool message.
    for request in model.requests:
        assert all("name" not in m for m in request if m.get("role") == "tool")
    assert {"tool_call_id": "call_1", "role": "tool", "content": "20"} in model.requests[1]


def test_reflection_summary_shows_the_model_expanded_tool_messages():
    user, assistant, model = make_pair(
        [{"content": None, "tool_calls": [tool_call("call_1", "multiply", {"a": 6, "b": 7})]}, "42. TERMINATE", "Product is 42."]
    )
    result = user.initiate_chat(assistant, message="6 * 7?", max_turns=2, summary_method="reflection_with_llm")
    assert result.summary == "Product is 42."
    summary_request = model.requests[-1]
    assert summary_request[-1]["content"] == parley.ConversableAgent.DEFAULT_SUMMARY_PROMPT
    assert all("tool_responses" not in m for m in summary_request)
    assert {"tool_call_id": "call_1", "role": "tool", "content": "42"} in summary_request


def test_keys_set_to_none_count_as_absent_and_stored_keys_follow_classics_order():
    a = ConversableAgent("a", llm_config=False, human_input_mode="NEVER")
    b = ConversableAgent("b", llm_config=False, human_input_mode="NEVER")
    # A message object's model_dump(): None-valued keys are left out, so a plain reply gets a name.
    a.send({"role": "assistant", "content": "hi", "tool_calls": None, "function_call": None, "name": None}, b, request_reply=False)
    assert b.chat_messages[a][0] == {"content": "hi", "role": "user", "name": "a"}
    a.send({"content": None, "tool_calls": [tool_call("c1", "f", {})]}, b, request_reply=False)
    assert list(b.chat_messages[a][1]) == ["tool_calls", "content", "role"]
    a.send({"tool_responses": [{"tool_call_id": "c1", "role": "tool", "content": "1"}], "content": "1", "role": "tool"}, b,
           request_reply=False)
    assert list(b.chat_messages[a][2]) == ["content", "tool_responses", "role", "name"]
    # Neither content nor a call: nothing to store, as classic refuses it.
    with pytest.raises(ValueError, match="Either content or function_call must be provided"):
        a.send({"content": None}, b, request_reply=False)
