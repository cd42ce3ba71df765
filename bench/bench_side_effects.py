"""Side effects with the run store: a chat of 100 tool calls (an instant tool, an instant scripted
model), store off and on. With the store on, each call waits until its result is committed
(``parley.side_effects``), so this is the price of not running a call twice after a crash.

    python bench/bench_side_effects.py [--calls 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from parley import ConversableAgent, ScriptedModelClient, register_function
from parley.io.console import console_sink
from parley.store import RunStore


def add(a: int, b: int) -> int:
    return a + b


def ms_per_call(calls: int, store_on: bool) -> float:
    replies: list = [{"content": None, "tool_calls": [{"id": f"c{i}", "type": "function",
                                                       "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}]}
                     for i in range(calls)] + ["TERMINATE"]
    caller = ConversableAgent("caller", llm_config={"config_list": [{"model": "m", "client": ScriptedModelClient(replies)}]},
                              human_input_mode="NEVER")
    executor = ConversableAgent("executor", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=10**6)
    register_function(add, caller=caller, executor=executor, description="add")
    store = RunStore(tempfile.mkdtemp() + "/runs.db").attach() if store_on else None
    started = time.perf_counter()
    executor.initiate_chat(caller, message="go", silent=True)
    elapsed = time.perf_counter() - started
    if store is not None:
        store.close()
    return elapsed / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    console_sink.enabled = False
    for store_on in (False, True):
        times = [ms_per_call(args.calls, store_on) for _ in range(args.repeat)]
        print(f"store {'on ' if store_on else 'off'}: {statistics.median(times):.3f} ms a tool call (median of {args.repeat})")


if __name__ == "__main__":
    main()
