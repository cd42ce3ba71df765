"""The classic sync methods are made from their async twins (``_sync.sync_twin``), not written in pairs."""

from __future__ import annotations

import inspect

import pytest

from parley import ConversableAgent, GroupChat, GroupChatManager
from parley._sync import sync_twin

TWINS = {
    ConversableAgent: ("send", "receive", "generate_reply", "initiate_chat", "generate_init_message", "execute_function",
                       "process_all_messages_before_reply", "process_last_received_message"),
    GroupChatManager: ("run_chat",),
    GroupChat: ("select_speaker",),
}


@pytest.mark.parametrize(("cls", "name"), [(cls, name) for cls, names in TWINS.items() for name in names])
def test_each_classic_sync_method_has_its_async_twin_s_parameters_and_doc(cls, name):
    sync, twin = getattr(cls, name), getattr(cls, "a_" + name)
    assert sync.__name__ == name and not inspect.iscoroutinefunction(sync)
    assert inspect.signature(sync).parameters == inspect.signature(twin).parameters
    assert sync.__doc__ == twin.__doc__


def test_a_subclass_overriding_the_async_method_changes_the_sync_one():
    class Echo(ConversableAgent):
        async def a_generate_reply(self, messages=None, sender=None, **kwargs):
            return f"echo {messages[-1]['content']}"

    agent = Echo("echo", llm_config=False)
    assert agent.generate_reply([{"role": "user", "content": "hi"}]) == "echo hi"


def test_a_sync_send_delivers_and_gets_the_reply_it_asked_for():
    alice = ConversableAgent("alice", llm_config=False, human_input_mode="NEVER", default_auto_reply="hi",
                             max_consecutive_auto_reply=2)
    bob = ConversableAgent("bob", llm_config=False, human_input_mode="NEVER", default_auto_reply="hello",
                           max_consecutive_auto_reply=2)
    alice.send("start", bob, request_reply=True)
    # Bob was asked to reply; Alice was not asked to answer him (classic send: no chat set up).
    assert [m["content"] for m in alice.chat_messages[bob]] == ["start", "hello"]


def test_only_an_a_name_has_a_twin():
    async def fetch(self):
        return 1

    with pytest.raises(ValueError, match="a_<name>"):
        sync_twin(fetch)
