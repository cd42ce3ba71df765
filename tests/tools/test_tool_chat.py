"""Two-agent chats where the scripted model calls real functions, sequentially and in parallel."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel

import parley
from parley import AssistantAgent, UserProxyAgent, events
from parley.tools import register_function

SERVER = str(Path(__file__).with_name("mcp_server.py"))


def tool_call(call_id: str, name: str, arguments) -> dict:
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def calls(*tool_calls: dict) -> dict:
    return {"content": None, "tool_calls": list(tool_calls)}


class Model:
    """Replays ``replies`` and keeps a snapshot of what each request showed the model."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[dict] = []

    def __call__(self, request):
        self.requests.append({"messages": [dict(m) for m in request.messages], "tools": request.tools})
        return self.replies[min(len(self.requests), len(self.replies)) - 1]


def make_pair(replies):
    model = Model(replies)
    client = parley.ScriptedModelClient(model)
    assistant = AssistantAgent("assistant", llm_config={"config_list": [{"model": "s", "client": client}]})
    user = UserProxyAgent(
        "user",
        human_input_mode="NEVER",
        code_execution_config=False,
        max_consecutive_auto_reply=10,
        is_termination_msg=lambda m: (m.get("content") or "").rstrip().endswith("TERMINATE"),
    )
    return user, assistant, model


class Forecast(BaseModel):
    city: str
    temperature: float
    unit: str


def get_forecast(
    city: Annotated[str, "city name"], unit: Annotated[Literal["C", "F"], "temperature unit"] = "C"
) -> Forecast:
    return Forecast(city=city, temperature=21.0 if unit == "C" else 69.8, unit=unit)


def to_kelvin(celsius: Annotated[float, "temperature in Celsius"]) -> float:
    return round(celsius + 273.15, 2)


def tool_messages(request) -> list[dict]:
    return [m for m in request["messages"] if m.get("role") == "tool"]


def test_sequential_tool_calls():
    user, assistant, model = make_pair(
        [
            calls(tool_call("c1", "get_forecast", {"city": "Lyon"})),
            calls(tool_call("c2", "to_kelvin", {"celsius": 21.0})),
            "It is 21 °C (294.15 K) in Lyon. TERMINATE",
        ]
    )
    register_function(get_forecast, caller=assistant, executor=user, description="Weather forecast for a city.")
    register_function(to_kelvin, caller=assistant, executor=user, description="Convert Celsius to Kelvin.")

    with events.capture(kinds=(events.ToolCalled,)) as captured:
        result = user.initiate_chat(assistant, message="How warm is Lyon, in Kelvin?")

    history = result.chat_history
    assert [m.get("tool_calls", [{}])[0].get("id") for m in history[1:4:2]] == ["c1", "c2"]
    first_answer, second_answer = history[2], history[4]
    assert first_answer["role"] == "tool"
    assert first_answer["tool_responses"] == [
        {"tool_call_id": "c1", "role": "tool", "content": '{"city":"Lyon","temperature":21.0,"unit":"C"}'}
    ]
    assert second_answer["tool_responses"] == [{"tool_call_id": "c2", "role": "tool", "content": "294.15"}]
    assert result.summary.startswith("It is 21 °C")

    # The model saw the tools' schemas, and each tool result before its next turn.
    schemas = {t["function"]["name"]: t for t in model.requests[0]["tools"]}
    assert schemas["get_forecast"]["function"]["parameters"]["properties"]["unit"]["enum"] == ["C", "F"]
    assert schemas["to_kelvin"]["function"]["description"] == "Convert Celsius to Kelvin."
    assert tool_messages(model.requests[1]) == first_answer["tool_responses"]
    assert tool_messages(model.requests[2])[-1]["content"] == "294.15"

    assert [(e.tool, e.ok, e.agent) for e in captured.events] == [("get_forecast", True, "user"), ("to_kelvin", True, "user")]


def test_parallel_tool_calls_overlap():
    spans: dict[str, list[float]] = {}

    def lookup(key: Annotated[str, "key"]) -> str:
        spans[key] = [time.monotonic()]
        time.sleep(0.3)
        spans[key].append(time.monotonic())
        return key.upper()

    async def fetch(url: Annotated[str, "url"]) -> str:
        spans[url] = [time.monotonic()]
        await asyncio.sleep(0.3)
        spans[url].append(time.monotonic())
        return f"<html>{url}</html>"

    user, assistant, model = make_pair(
        [
            calls(tool_call("a", "lookup", {"key": "x"}), tool_call("b", "lookup", {"key": "y"}), tool_call("c", "fetch", {"url": "u"})),
            "done TERMINATE",
        ]
    )
    register_function(lookup, caller=assistant, executor=user, description="Look a key up.")
    register_function(fetch, caller=assistant, executor=user, description="Fetch a page.")
    result = user.initiate_chat(assistant, message="go")

    answer = result.chat_history[2]
    assert [r["tool_call_id"] for r in answer["tool_responses"]] == ["a", "b", "c"]
    assert [r["content"] for r in answer["tool_responses"]] == ["X", "Y", "<html>u</html>"]
    assert answer["content"] == "X\n\nY\n\n<html>u</html>"
    assert max(start for start, _ in spans.values()) < min(end for _, end in spans.values())
    # The model got one tool message per call, in order.
    assert [m["tool_call_id"] for m in tool_messages(model.requests[1])] == ["a", "b", "c"]


def test_failures_go_back_to_the_model_and_the_chat_goes_on():
    def divide(a: int, b: int) -> float:
        return a / b

    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "slept"

    user, assistant, model = make_pair(
        [
            calls(
                tool_call("1", "no_such_tool", {}),
                tool_call("2", "divide", '{"a": 1, "b": '),
                tool_call("3", "divide", {"a": "one", "b": 2}),
                tool_call("4", "divide", {"a": 1, "b": 0}),
            ),
            calls(tool_call("5", "divide", {"a": 6, "b": 3})),
            "recovered TERMINATE",
        ]
    )
    register_function(divide, caller=assistant, executor=user, description="Divide a by b.")
    result = user.initiate_chat(assistant, message="go")

    errors = [r["content"] for r in result.chat_history[2]["tool_responses"]]
    assert errors[0].startswith("Error: Function no_such_tool not found.")
    assert errors[1].endswith("The argument must be in JSON format.")
    assert errors[2].startswith("Error: invalid arguments for function 'divide':\n- a:")
    assert errors[3] == "Error: division by zero"
    assert result.chat_history[4]["tool_responses"][0]["content"] == "2.0"
    assert result.summary == "recovered"


def test_async_tool_in_a_sync_chat_and_decorators():
    user, assistant, _ = make_pair([calls(tool_call("1", "shout", {"text": "hi"})), "ok TERMINATE"])
    ran_on = []

    @user.register_for_execution()
    @assistant.register_for_llm(description="Shout a text.")
    async def shout(text: Annotated[str, "what to shout"]) -> str:
        ran_on.append(threading.current_thread().name)
        await asyncio.sleep(0)
        return text.upper() + "!"

    result = user.initiate_chat(assistant, message="shout hi")
    assert result.chat_history[2]["tool_responses"][0]["content"] == "HI!"
    assert ran_on


def test_function_map_functions_are_executed():
    def legacy(query):  # classic function_map functions are often unannotated
        return f"found {query}"

    user, assistant, _ = make_pair([calls(tool_call("1", "search", {"query": "cats"})), "ok TERMINATE"])
    user.register_function({"search": legacy})
    result = user.initiate_chat(assistant, message="search")
    assert result.chat_history[2]["tool_responses"][0]["content"] == "found cats"


class Socket:
    """A parameter type with no JSON schema."""


def test_registration_errors_name_function_and_parameter():
    user, assistant, _ = make_pair(["TERMINATE"])

    def undocumented(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="function 'undocumented' has no description"):
        register_function(undocumented, caller=assistant, executor=user)

    def send(data: str, sock: Socket) -> None:
        pass

    with pytest.raises(TypeError, match="function 'send': parameter 'sock'"):
        register_function(send, caller=assistant, executor=user, description="Send data.")

    register_function(to_kelvin, caller=assistant, executor=user, description="Convert.")
    # Registering again (a re-run notebook cell) replaces the tool, with classic's warning.
    with pytest.warns(UserWarning, match="Function 'to_kelvin' is being overridden."):
        register_function(to_kelvin, caller=assistant, executor=user, description="Convert again.")
    assert [t["function"]["description"] for t in assistant.llm_config["tools"]] == ["Convert again."]


def test_mcp_server_tools_in_a_chat():
    pytest.importorskip("mcp")
    from parley.tools.mcp import McpToolset, register_mcp_tools

    user, assistant, model = make_pair(
        [
            calls(tool_call("1", "add", {"a": 19, "b": 23}), tool_call("2", "repeat", {"text": "na", "times": 3})),
            "42 and nanana TERMINATE",
        ]
    )
    with McpToolset(command=sys.executable, args=[SERVER, "stdio"]) as toolset:
        register_mcp_tools(toolset, caller=assistant, executor=user)
        result = user.initiate_chat(assistant, message="add and repeat")
    assert [r["content"] for r in result.chat_history[2]["tool_responses"]] == ["42", "nanana"]
    assert {t["function"]["name"] for t in model.requests[0]["tools"]} == {"add", "repeat", "server_pid", "explode", "nap"}
