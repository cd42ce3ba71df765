"""The anthropic provider against the strict fake Messages API, through the real anthropic SDK."""

import json

import pytest

from parley import events
from parley.models.anthropic import to_anthropic_messages
from parley.models.protocol import ModelError
from parley.models.retry import TransientModelError
from parley.models.wrapper import OpenAIWrapper

from .conftest import SECRET_KEY

GROUP_CHAT = [
    {"role": "system", "content": "You are the critic."},
    {"role": "user", "name": "Admin", "content": "Plan a trip."},
    {"role": "user", "name": "Planner", "content": "Day 1: museum."},
    {"role": "user", "name": "Engineer", "content": "Looks fine."},
]

TOOL_ROUND = [
    {"role": "user", "content": "What is 2+3? And 4+5?"},
    {"role": "assistant", "content": "Let me add.", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}},
        {"id": "call_2", "type": "function", "function": {"name": "add", "arguments": '{"a": 4, "b": 5}'}},
    ]},
    {"role": "tool", "tool_call_id": "call_1", "content": "5"},
    {"role": "tool", "tool_call_id": "call_2", "content": "9"},
    {"role": "user", "name": "Checker", "content": "Both done?"},
]

ADD_TOOL = [{"type": "function", "function": {"name": "add", "description": "Add two ints", "parameters": {
    "type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}}}]


def wrapper(server, **llm_config):
    entry = {"model": "claude-3-5-sonnet-20241022", "api_type": "anthropic", "base_url": server.base_url, "api_key": SECRET_KEY}
    return OpenAIWrapper(config_list=[entry], **llm_config)


async def test_group_chat_with_consecutive_user_messages(anthropic_server):
    anthropic_server.add({"content": "I approve.", "usage": [1000, 1000]})
    response = await wrapper(anthropic_server).a_create(GROUP_CHAT)
    assert response.message == {"role": "assistant", "content": "I approve."}
    assert response.cost == pytest.approx(0.003 + 0.015)
    body = anthropic_server.requests[-1]
    assert body["system"] == "You are the critic."
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert [b["text"] for b in body["messages"][0]["content"]] == ["Plan a trip.", "Day 1: museum.", "Looks fine."]
    headers = anthropic_server.headers[-1]
    assert SECRET_KEY in (headers.get("x-api-key", "") + headers.get("authorization", ""))  # header depends on SDK version


async def test_tool_calls_convert_both_ways(anthropic_server):
    anthropic_server.add({"content": "Adding.", "tool_calls": [{"name": "add", "input": {"a": 1, "b": 2}}]})
    response = await wrapper(anthropic_server).a_create(TOOL_ROUND, tools=ADD_TOOL)
    assert response.message["content"] == "Adding."
    [call] = response.message["tool_calls"]
    assert call["type"] == "function" and call["id"].startswith("toolu_")
    assert call["function"] == {"name": "add", "arguments": json.dumps({"a": 1, "b": 2})}
    body = anthropic_server.requests[-1]
    assert body["tools"] == [{"name": "add", "description": "Add two ints", "input_schema": ADD_TOOL[0]["function"]["parameters"]}]
    assistant = body["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == {"type": "text", "text": "Let me add."}
    assert assistant["content"][1] == {"type": "tool_use", "id": "call_1", "name": "add", "input": {"a": 2, "b": 3}}
    results = body["messages"][2]["content"]
    assert [b["type"] for b in results] == ["tool_result", "tool_result", "text"]
    assert results[1] == {"type": "tool_result", "tool_use_id": "call_2", "content": "9"}


async def test_streaming_tokens_and_same_message(anthropic_server):
    reply = {"content": "Sum is ready", "tool_calls": [{"name": "add", "input": {"a": 1, "b": [2, 3]}}]}
    anthropic_server.add(dict(reply), dict(reply))
    plain = await wrapper(anthropic_server).a_create(TOOL_ROUND, tools=ADD_TOOL)
    with events.capture(kinds=(events.TokenStreamed,)) as captured:
        streamed = await wrapper(anthropic_server, stream=True).a_create(TOOL_ROUND, tools=ADD_TOOL)
    assert [e.token for e in captured.events] == ["Sum ", "is ", "ready"]
    for message in (plain.message, streamed.message):
        message["tool_calls"][0].pop("id")
    assert streamed.message == plain.message
    assert (streamed.prompt_tokens, streamed.completion_tokens) == (plain.prompt_tokens, plain.completion_tokens)


def test_conversion_edge_cases():
    system, turns = to_anthropic_messages([
        {"role": "system", "content": "rules"},
        {"role": "assistant", "content": "I start."},
        {"role": "system", "content": "Who speaks next?"},
        {"role": "assistant", "content": ""},
        {"role": "assistant", "content": "Me."},
    ])
    assert system == "rules"
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant", "user"]
    assert turns[2]["content"] == [{"type": "text", "text": "Who speaks next?"}]  # a later system message stays in place
    _, turns = to_anthropic_messages([{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "not json"}}]}])
    assert turns[1]["content"][0]["input"] == {"arguments": "not json"}


async def test_faults_retry_and_refusal_does_not(anthropic_server, waits):
    anthropic_server.add({"status": 529, "error": "Overloaded"}, {"status": 429, "retry_after": "4"}, {"content": "ok"})
    assert (await wrapper(anthropic_server).a_create(GROUP_CHAT)).message["content"] == "ok"
    # 529 has no Retry-After: the backoff's first step; the 429's header (longer than backoff's 1 s) is waited.
    assert len(waits) == 2 and 0.25 <= waits[0] <= 0.5 and waits[1] == 4.0
    anthropic_server.add({"content": "half of it", "drop": True}, {"content": "whole answer"})
    assert (await wrapper(anthropic_server, stream=True).a_create(GROUP_CHAT)).message["content"] == "whole answer"
    anthropic_server.reset()
    anthropic_server.add({"content": "No.", "stop_reason": "refusal"})
    with pytest.raises(ModelError, match="refused") as error:
        await wrapper(anthropic_server).a_create(GROUP_CHAT)
    assert not isinstance(error.value, TransientModelError)
    assert len(anthropic_server.requests) == 1


async def test_invalid_request_is_a_clear_non_retried_error(anthropic_server):
    # Send something the conversion cannot fix: an unknown tool_result id (a caller bug).
    messages = [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "nope", "content": "5"}]
    with pytest.raises(ModelError, match="HTTP 400.*no tool_use in the previous turn"):
        await wrapper(anthropic_server).a_create(messages)
    assert len(anthropic_server.requests) == 1
