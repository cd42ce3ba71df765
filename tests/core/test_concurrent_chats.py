"""One agent in several chats at once: each chat's cache, IO stream, chat id and run store are its own.

A chat's settings belong to the chat (``parley.chat.conversation``), not to the agents in it: the
same agents serve concurrent chats with different caches, human-input streams and stores, and
each chat's model look-ups, prompts, printed lines and events are accounted to it alone.
"""

from __future__ import annotations

import asyncio

import pytest

from parley import (
    AssistantAgent,
    ConversableAgent,
    ModelRequest,
    ModelResponse,
    UserProxyAgent,
    events,
)
from parley.io import IOQueue, set_default
from parley.io.console import console_sink


class CountingCache:
    """An in-memory cache that counts its look-ups (the cache protocol: get/set)."""

    def __init__(self) -> None:
        self.gets = 0
        self.sets = 0
        self.data: dict = {}

    def get(self, key: str, default=None):
        self.gets += 1
        return self.data.get(key, default)

    def set(self, key: str, value) -> None:
        self.sets += 1
        self.data[key] = value


class YieldingModel:
    """Answers after yielding to the event loop, so that concurrent chats interleave."""

    async def create(self, request: ModelRequest) -> ModelResponse:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return ModelResponse({"role": "assistant", "content": f"reply {len(request.messages)}"})


def shared_pair(turns: int = 3) -> tuple[UserProxyAgent, AssistantAgent]:
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    assistant = AssistantAgent("assistant", llm_config={"config_list": [{"model": "m", "client": YieldingModel()}]})
    return user, assistant


async def test_concurrent_chats_with_different_caches_each_use_their_own():
    user, assistant = shared_pair()
    first, second = CountingCache(), CountingCache()
    results = await user.a_initiate_chats([
        {"chat_id": "a", "recipient": assistant, "message": "hi", "max_turns": 3, "cache": first, "silent": True},
        {"chat_id": "b", "recipient": assistant, "message": "hi", "max_turns": 3, "cache": second, "silent": True},
    ])
    assert [r.chat_id for r in results.values()] == ["a", "b"]
    # Three model replies per chat, each looked up (and stored) in its own chat's cache.
    assert (first.gets, first.sets) == (3, 3)
    assert (second.gets, second.sets) == (3, 3)
    # Outside a chat, the agents' own cache is untouched.
    assert user.client_cache is None and assistant.client_cache is None


async def test_gathered_initiate_chats_with_different_caches():
    user, assistant = shared_pair()
    caches = [CountingCache() for _ in range(3)]
    await asyncio.gather(*(
        user.a_initiate_chat(assistant, message="hi", max_turns=2, cache=cache, silent=True, clear_history=False)
        for cache in caches
    ))
    assert [(c.gets, c.sets) for c in caches] == [(2, 2)] * 3


async def test_agent_client_cache_serves_calls_outside_a_chat():
    # Classic: set on the agent, used by a direct generate_reply (no chat around it).
    _, assistant = shared_pair()
    cache = CountingCache()
    assistant.client_cache = cache
    reply = await assistant.a_generate_reply(messages=[{"role": "user", "content": "hi"}])
    assert reply == "reply 2" and cache.gets == 1


def human_pair() -> tuple[ConversableAgent, AssistantAgent]:
    human = ConversableAgent("human", llm_config=False, human_input_mode="ALWAYS")
    assistant = AssistantAgent("assistant", llm_config={"config_list": [{"model": "m", "client": YieldingModel()}]})
    return human, assistant


@pytest.fixture
def console():
    """The console transcript on (tests turn it off): it prints to the current IO stream."""
    console_sink.enabled = True
    yield
    console_sink.enabled = False


async def test_concurrent_chats_ask_and_print_through_their_own_io_streams(console):
    human, assistant = human_pair()
    queues = {"a": IOQueue(["from a", "exit"]), "b": IOQueue(["from b", "more b", "exit"])}

    async def chat(tag: str):
        with set_default(queues[tag]):
            return await human.a_initiate_chat(assistant, message=f"start {tag}", clear_history=False)

    results = dict(zip("ab", await asyncio.gather(chat("a"), chat("b")), strict=True))
    assert results["a"].human_input == ["from a", "exit"]
    assert results["b"].human_input == ["from b", "more b", "exit"]
    assert len(queues["a"].prompts) == 2 and len(queues["b"].prompts) == 3
    # Each chat's transcript was printed to its own stream only.
    assert "start a" in queues["a"].output and "start b" not in queues["a"].output
    assert "from b" in queues["b"].output and "from a" not in queues["b"].output
    assert "start b" in queues["b"].output


async def test_concurrent_chats_keep_their_own_silent_flag_and_chat_id(console):
    user, assistant = shared_pair()
    loud, quiet = IOQueue(), IOQueue()

    async def chat(stream: IOQueue, silent: bool, tag: str):
        with set_default(stream):
            return await user.a_initiate_chat(assistant, message=tag, max_turns=2, silent=silent, clear_history=False)

    with events.capture(kinds=(events.MessageSent, events.ChatStarted)) as seen:
        await asyncio.gather(chat(loud, False, "loud"), chat(quiet, True, "quiet"))
    assert "loud" in loud.output and quiet.output == ""
    started = {e.message: e.chat_id for e in seen.of(events.ChatStarted)}
    assert started["loud"] != started["quiet"]
    sent = seen.of(events.MessageSent)
    assert len(sent) == 8
    # Every message is marked with its own chat's id and silent flag.
    for event in sent:
        assert event.silent is (event.chat_id == started["quiet"])
    assert {e.chat_id for e in sent} == set(started.values())


def test_a_message_sent_by_hand_is_not_marked_as_the_last_generated_reply():
    user, assistant = shared_pair()
    assistant.generate_reply(messages=[{"role": "user", "content": "hi"}])  # a reply nobody sends
    with events.capture(kinds=(events.MessageSent,)) as seen:
        assistant.send("written by hand", user, request_reply=False, silent=True)
    [sent] = seen.of(events.MessageSent)
    assert sent.produced_by is None


async def test_each_chat_records_which_reply_function_made_its_messages():
    # One agent answers two peers by two different reply functions; an async before-send hook
    # lets the other chat generate its reply between a reply and its delivery.
    hub = ConversableAgent("hub", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=2)
    left = ConversableAgent("left", llm_config=False, human_input_mode="NEVER", default_auto_reply="more")
    right = ConversableAgent("right", llm_config=False, human_input_mode="NEVER", default_auto_reply="more")

    def answer_left(recipient, messages, sender, config):
        return True, "to left"

    def answer_right(recipient, messages, sender, config):
        return True, "to right"

    hub.register_reply(left, answer_left)
    hub.register_reply(right, answer_right)

    async def yield_before_send(sender, message, recipient, silent):
        await asyncio.sleep(0)
        return message

    hub.register_hook("a_process_message_before_send", yield_before_send)
    with events.capture(kinds=(events.MessageSent,)) as seen:
        await asyncio.gather(left.a_initiate_chat(hub, message="hi", max_turns=3, silent=True),
                             right.a_initiate_chat(hub, message="hi", max_turns=3, silent=True))
    from_hub = [(e.recipient, e.message["content"], e.produced_by) for e in seen.of(events.MessageSent) if e.sender == "hub"]
    assert sorted(set(from_hub)) == [("left", "to left", "answer_left"), ("right", "to right", "answer_right")]
    assert len(from_hub) == 6
