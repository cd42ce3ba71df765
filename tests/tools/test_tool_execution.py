"""Running tools: Tool.call, run_tool_calls, run_function_call and their error answers."""

import asyncio
import dataclasses
import datetime
import json
import threading
import time
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel

from parley import events
from parley.tools import Tool, ToolError, run_function_call, run_tool_calls, serialize_result
from parley.tools.function_utils import load_basemodels_if_needed, serialize_to_str


class Order(BaseModel):
    item: str
    quantity: int = 1


class Receipt(BaseModel):
    item: str
    total: float


def price(order: Annotated[Order, "the order"], currency: Literal["EUR", "USD"] = "EUR") -> Receipt:
    """Price an order."""
    return Receipt(item=order.item, total=order.quantity * 2.5)


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def call(tool_calls, functions, **kwargs):
    return asyncio.run(run_tool_calls(tool_calls, functions, **kwargs))


def tool_call(call_id, name, arguments):
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


# ------------------------------------------------------------------ Tool.call


def test_pydantic_model_in_and_out():
    tool = Tool(price)
    result = asyncio.run(tool.call('{"order": {"item": "tea", "quantity": 4}}'))
    assert result == '{"item":"tea","total":10.0}'
    # A dict works as arguments too.
    assert asyncio.run(tool.call({"order": {"item": "tea"}, "currency": "USD"})) == '{"item":"tea","total":2.5}'


def test_arguments_are_validated_and_coerced():
    assert asyncio.run(Tool(add).call('{"a": "2", "b": 3}')) == "5"


def test_defaults_are_the_functions_own():
    seen = []

    def collect(x: int, into: list = seen) -> int:  # noqa: B006 - the identity of the default is the point
        """Collect."""
        into.append(x)
        return len(into)

    assert asyncio.run(Tool(collect).call('{"x": 1}')) == "1"
    assert seen == [1]


def test_validation_error_names_the_arguments():
    result = asyncio.run(Tool(price).call('{"order": {"quantity": "many"}, "currency": "GBP", "tip": 1}'))
    assert result.startswith("Error: invalid arguments for function 'price':")
    assert "- order.item: Field required" in result
    assert "- order.quantity: Input should be a valid integer" in result and "(got 'many')" in result
    assert "- currency: Input should be 'EUR' or 'USD' (got 'GBP')" in result
    assert "- tip: Extra inputs are not permitted" in result
    assert "errors.pydantic.dev" not in result


def test_bad_json_and_non_object_arguments():
    tool = Tool(add)
    result = asyncio.run(tool.call('{"a": 1, "b": '))
    assert result.startswith("Error: Expecting value") and result.endswith("The argument must be in JSON format.")
    assert asyncio.run(tool.call("[1, 2]")) == "Error: the arguments must be a JSON object ({...}), got list"


def test_empty_arguments_mean_no_arguments():
    def now() -> str:
        """The time."""
        return "noon"

    assert asyncio.run(Tool(now).call("")) == "noon"
    assert asyncio.run(Tool(now).call(None)) == "noon"


def test_exceptions_become_error_text():
    def divide(a: int, b: int) -> float:
        """Divide."""
        return a / b

    def refuse(x: int) -> str:
        """Refuse."""
        raise ToolError(f"{x} is not allowed")

    assert asyncio.run(Tool(divide).call({"a": 1, "b": 0})) == "Error: division by zero"
    assert asyncio.run(Tool(refuse).call({"x": 3})) == "Error: 3 is not allowed"


def test_invoke_reports_success():
    tool = Tool(add)
    assert asyncio.run(tool.invoke({"a": 1, "b": 2})).ok is True
    assert asyncio.run(tool.invoke({"a": 1})).ok is False


def test_sync_tools_run_off_the_event_loop_and_async_ones_on_it():
    threads = {}

    def sync_tool() -> str:
        """Sync."""
        threads["sync"] = threading.current_thread()
        return "s"

    async def async_tool() -> str:
        """Async."""
        threads["async"] = threading.current_thread()
        return "a"

    async def main():
        await Tool(sync_tool).call({})
        await Tool(async_tool).call({})

    asyncio.run(main())
    assert threads["async"] is threading.main_thread()
    assert threads["sync"] is not threading.main_thread()


def test_serialisation_of_results():
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    assert serialize_result("plain text") == "plain text"
    assert serialize_result(None) == "null"
    assert serialize_result({"a": [1, 2], "ü": True}) == '{"a": [1, 2], "ü": true}'
    assert serialize_result([Order(item="x")]) == '[{"item": "x", "quantity": 1}]'
    assert serialize_result(Point(1, 2)) == '{"x": 1, "y": 2}'
    assert serialize_result(datetime.date(2024, 5, 1)) == '"2024-05-01"'
    assert serialize_result({"object": object}).startswith('{"object": "<class')
    assert serialize_to_str(Order(item="x")) == '{"item":"x","quantity":1}'


def test_load_basemodels_if_needed():
    @load_basemodels_if_needed
    def total(order: Order) -> int:
        return order.quantity

    assert total(order={"item": "x", "quantity": 3}) == 3


def test_tool_is_callable_like_its_function():
    assert Tool(add)(2, 3) == 5


# ------------------------------------------------------------------ run_tool_calls


def test_answers_in_call_order_with_ids():
    calls = [tool_call("c1", "add", {"a": 1, "b": 2}), tool_call("c2", "price", {"order": {"item": "x"}})]
    answers = call(calls, {"add": add, "price": Tool(price)})
    assert answers == [
        {"tool_call_id": "c1", "role": "tool", "content": "3"},
        {"tool_call_id": "c2", "role": "tool", "content": '{"item":"x","total":2.5}'},
    ]


def test_parallel_calls_overlap():
    """Two sleeping tools (one sync, one async) in one message run at the same time."""
    spans = {}

    def slow_sync(label: str) -> str:
        """Sleep in a thread."""
        spans[label] = [time.monotonic()]
        time.sleep(0.3)
        spans[label].append(time.monotonic())
        return label

    async def slow_async(label: str) -> str:
        """Sleep on the loop."""
        spans[label] = [time.monotonic()]
        await asyncio.sleep(0.3)
        spans[label].append(time.monotonic())
        return label

    calls = [
        tool_call("1", "slow_sync", {"label": "a"}),
        tool_call("2", "slow_sync", {"label": "b"}),
        tool_call("3", "slow_async", {"label": "c"}),
    ]
    answers = call(calls, {"slow_sync": slow_sync, "slow_async": slow_async})
    assert [a["content"] for a in answers] == ["a", "b", "c"]
    # Every call started before any other finished.
    latest_start = max(start for start, _ in spans.values())
    earliest_end = min(end for _, end in spans.values())
    assert latest_start < earliest_end


def test_every_failure_is_answered_and_the_rest_still_run():
    def boom() -> str:
        raise RuntimeError("kaput")

    calls = [
        tool_call("1", "nope", {}),
        tool_call("2", "add", '{"a": 1,'),
        tool_call("3", "add", {"a": "x", "b": 1}),
        tool_call("4", "boom", {}),
        tool_call("5", "add", {"a": 2, "b": 2}),
    ]
    answers = call(calls, {"add": add, "boom": boom})
    contents = [a["content"] for a in answers]
    assert [a["tool_call_id"] for a in answers] == ["1", "2", "3", "4", "5"]
    assert contents[0] == "Error: Function nope not found."
    assert contents[1].endswith("The argument must be in JSON format.")
    assert contents[2].startswith("Error: invalid arguments for function 'add':\n- a: Input should be a valid integer")
    assert contents[3] == "Error: kaput"
    assert contents[4] == "4"


def test_timeout_is_answered_and_does_not_block_the_others():
    async def hang() -> str:
        await asyncio.sleep(30)
        return "never"

    def fast() -> str:
        return "fast"

    started = time.monotonic()
    answers = call([tool_call("1", "hang", {}), tool_call("2", "fast", {})], {"hang": hang, "fast": fast}, timeout=0.2)
    assert answers[0]["content"] == "Error: function 'hang' timed out after 0.2 s"
    assert answers[1]["content"] == "fast"
    assert time.monotonic() - started < 30  # the hung call was abandoned, not awaited


def test_a_timed_out_sync_tool_does_not_hold_the_chat():
    """The sync tool is still blocked when asyncio.run has returned: its thread was abandoned."""
    release = threading.Event()
    finished = threading.Event()

    def stuck() -> str:
        release.wait(30)
        finished.set()
        return "late"

    answers = call([tool_call("1", "stuck", {})], {"stuck": stuck}, timeout=0.1)
    still_blocked = not finished.is_set()
    release.set()
    assert answers[0]["content"] == "Error: function 'stuck' timed out after 0.1 s"
    assert still_blocked
    assert finished.wait(5)  # and it ends on its own without trouble once released


def test_a_tools_own_timeout_wins():
    async def hang() -> str:
        """Hang."""
        await asyncio.sleep(30)
        return "never"

    answers = call([tool_call("1", "hang", {})], {"hang": Tool(hang, timeout=0.1)}, timeout=100)
    assert answers[0]["content"] == "Error: function 'hang' timed out after 0.1 s"
    with pytest.raises(ValueError, match="tool 'hang': timeout must be positive"):
        Tool(hang, timeout=0)


def test_function_map_callables_need_no_annotations():
    """Classic function_map functions are often unannotated, or take **kwargs: called as they are."""

    def run_code(cell):
        return f"ran {cell}"

    def configure(**options):
        return sorted(options)

    answers = call(
        [tool_call("1", "python", {"cell": "1+1"}), tool_call("2", "configure", {"b": 1, "a": 2}), tool_call("3", "python", {"x": 1})],
        {"python": run_code, "configure": configure},
    )
    assert answers[0]["content"] == "ran 1+1"
    assert answers[1]["content"] == '["a", "b"]'
    assert answers[2]["content"].startswith("Error: ") and "'x'" in answers[2]["content"]


def test_events_one_per_call():
    with events.capture(kinds=(events.ToolCalled,)) as captured:
        call([tool_call("c1", "add", {"a": 1, "b": 2}), tool_call("c2", "missing", {})], {"add": add}, agent="executor")
    by_id = {e.tool_call_id: e for e in captured.events}
    assert set(by_id) == {"c1", "c2"}
    assert by_id["c1"].agent == "executor" and by_id["c1"].tool == "add" and by_id["c1"].ok is True
    assert by_id["c1"].arguments == '{"a": 1, "b": 2}' and by_id["c1"].result == "3"
    assert by_id["c1"].latency_s >= 0
    assert by_id["c2"].ok is False and by_id["c2"].result.startswith("Error: Function missing not found.")


def test_legacy_function_call():
    answer = asyncio.run(run_function_call({"name": "add", "arguments": '{"a": 5, "b": 6}'}, {"add": add}))
    assert answer == {"name": "add", "role": "function", "content": "11"}
    missing = asyncio.run(run_function_call({"name": "sub", "arguments": "{}"}, {"add": add}))
    assert missing["role"] == "function" and missing["content"].startswith("Error: Function sub not found.")
