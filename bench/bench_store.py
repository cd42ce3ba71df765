"""Run-store overhead: a 1,000-message two-agent chat with an instant scripted model, with the
store off and on (SQLite file, WAL), side by side. Reports the chat's wall time and, with the
store on, the time until every event is committed (chat + final flush), and the machine's load.
Besides wall time it reports CPU time (the chat's thread; the whole process until committed),
which other jobs on a shared machine disturb much less.

    python bench/bench_store.py [--repeat 21] [--messages 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from parley import ConversableAgent, ScriptedModelClient
from parley.io.console import console_sink
from parley.store import RunStore

MESSAGES = 1000


def agents() -> tuple[ConversableAgent, ConversableAgent]:
    config = lambda: {"config_list": [{"model": "s", "client": ScriptedModelClient(lambda r: "ok")}]}  # noqa: E731
    return (ConversableAgent("a", llm_config=config(), human_input_mode="NEVER", max_consecutive_auto_reply=10**6),
            ConversableAgent("b", llm_config=config(), human_input_mode="NEVER", max_consecutive_auto_reply=10**6))


def chat(messages: int = MESSAGES) -> tuple[float, float]:
    """Wall and this thread's CPU seconds of one chat."""
    a, b = agents()
    started, cpu = time.perf_counter(), time.thread_time()
    result = a.initiate_chat(b, message="go", max_turns=messages // 2, silent=True)
    elapsed, cpu = time.perf_counter() - started, time.thread_time() - cpu
    assert len(result.chat_history) == messages
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    args = parser.parse_args()
    console_sink.enabled = False
    n = args.messages
    off, on, durable = [], [], []  # (wall, cpu) pairs
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs.db").attach()
        store.detach()
        chat(n)  # warm up

        def store_on() -> None:
            store.attach()
            started, cpu = time.perf_counter(), time.process_time()
            on.append(chat(n))
            store.flush()
            durable.append((time.perf_counter() - started, time.process_time() - cpu))
            store.detach()

        for i in range(args.repeat):  # interleaved, order alternating, so noise hits both sides alike
            if i % 2:
                store_on()
                off.append(chat(n))
            else:
                off.append(chat(n))
                store_on()
        count = sum(r.messages for r in store.list_runs(limit=None))
        assert count == args.repeat * n, count
        store.close()
    load_after = os.getloadavg()

    def median_ms(runs: list, which: int) -> float:
        return statistics.median(r[which] for r in runs) * 1000

    print(f"| store | chat of {n} messages, wall (median of {args.repeat}, ms) | overhead | CPU (ms) | overhead |")
    print("|---|---:|---:|---:|---:|")
    base_wall, base_cpu = median_ms(off, 0), median_ms(off, 1)
    print(f"| off | {base_wall:.1f} | | {base_cpu:.1f} | |")
    for label, runs, cpu_label in (("on (chat returns)", on, "chat thread"), ("on (all committed)", durable, "process")):
        wall, cpu = median_ms(runs, 0), median_ms(runs, 1)
        print(f"| {label} | {wall:.1f} | {100 * (wall / base_wall - 1):+.1f} % | {cpu:.1f} ({cpu_label}) | {100 * (cpu / base_cpu - 1):+.1f} % |")
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
