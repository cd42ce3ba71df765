"""Run-store overhead: a 1,000-message two-agent chat with an instant scripted model, with the
store off and on (SQLite file, WAL), side by side. Reports the chat's wall time and, with the
store on, the time until every event is committed (chat + final flush), and the machine's load.

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


def chat(messages: int = MESSAGES) -> float:
    a, b = agents()
    started = time.perf_counter()
    result = a.initiate_chat(b, message="go", max_turns=messages // 2, silent=True)
    elapsed = time.perf_counter() - started
    assert len(result.chat_history) == messages
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    args = parser.parse_args()
    console_sink.enabled = False
    n = args.messages
    off, on, durable = [], [], []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs.db").attach()
        store.detach()
        chat(n)  # warm up

        def store_on() -> None:
            store.attach()
            started = time.perf_counter()
            on.append(chat(n))
            store.flush()
            durable.append(time.perf_counter() - started)
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
    m_off, m_on, m_durable = (statistics.median(x) * 1000 for x in (off, on, durable))
    print(f"| store | chat of {n} messages (median of {args.repeat}, ms) | overhead |")
    print("|---|---:|---:|")
    print(f"| off | {m_off:.1f} | |")
    print(f"| on (chat returns) | {m_on:.1f} | {100 * (m_on / m_off - 1):+.1f} % |")
    print(f"| on (all committed) | {m_durable:.1f} | {100 * (m_durable / m_off - 1):+.1f} % |")
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
