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
