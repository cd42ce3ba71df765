"""Run-store overhead: a 1,000-message two-agent chat with an instant scripted model, with the
store off and on (SQLite file, WAL), side by side. Reports the chat's wall time and, with the
store on, the time until every event is committed (chat + final flush), and the machine's load.
Besides wall time it reports CPU time (the chat's thread; the whole process until committed),
which other jobs on a shared machine disturb less. Overheads are paired: each store-on chat
against the store-off chat of the same round, the median of those ratios (and their
interquartile range), which drifts of a shared host's speed affect least.

    python bench/bench_store.py [--repeat 21] [--messages 1000] [--telemetry]

``--telemetry`` measures OpenTelemetry spans instead of the store (SDK tracer provider, batch
span processor into an in-memory exporter; "all committed" then means force_flush).
"""

from __future__ import annotations

import argparse
import gc
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


def telemetry_sink() -> tuple:
    """attach, flush, detach for telemetry into an in-memory exporter."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from parley import telemetry

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))

    def detach() -> None:
        telemetry.disable()
        assert len(exporter.get_finished_spans()) >= 1000, "spans were lost"
        exporter.clear()

    return (lambda: telemetry.enable(tracer_provider=provider)), provider.force_flush, detach


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--telemetry", action="store_true", help="measure telemetry spans instead of the store")
    args = parser.parse_args()
    console_sink.enabled = False
    n = args.messages
    off, on, durable = [], [], []  # (wall, cpu) pairs
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs.db")
        if args.telemetry:
            attach, flush, detach = telemetry_sink()
        else:
            attach, flush, detach = store.attach, store.flush, store.detach
        chat(n)  # warm up

        def sink_on() -> None:
            gc.collect()  # off the clock, see chat_off
            attach()
            started, cpu = time.perf_counter(), time.process_time()
            on.append(chat(n))
            flush()
            durable.append((time.perf_counter() - started, time.process_time() - cpu))
            detach()

        def chat_off() -> None:
            # The previous chats' agents and histories are garbage in reference cycles: collect
            # them off the clock, or the collection lands in whichever chat crosses the threshold.
            gc.collect()
            off.append(chat(n))

        for i in range(args.repeat):  # interleaved, order alternating, so noise hits both sides alike
            if i % 2:
                sink_on()
                chat_off()
            else:
                chat_off()
                sink_on()
        if not args.telemetry:
            count = sum(r.messages for r in store.list_runs(limit=None))
            assert count == args.repeat * n, count
        store.close()
    load_after = os.getloadavg()

    def median_ms(runs: list, which: int) -> float:
        return statistics.median(r[which] for r in runs) * 1000

    def paired(runs: list, which: int) -> str:
        """The overhead of each run over the store-off chat of the same round (neighbours in time,
        so a slow spell of a shared host hits both): median and interquartile range."""
        ratios = sorted(r[which] / o[which] - 1 for r, o in zip(runs, off))
        q = len(ratios) // 4
        return f"{100 * statistics.median(ratios):+.1f} % ({100 * ratios[q]:+.1f} .. {100 * ratios[-1 - q]:+.1f})"

    print(f"| {'telemetry' if args.telemetry else 'store'} | chat of {n} messages, wall (median of {args.repeat}, ms) "
          "| overhead (paired median, IQR) | CPU (ms) | overhead (paired median, IQR) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| off | {median_ms(off, 0):.1f} | | {median_ms(off, 1):.1f} | |")
    for label, runs, cpu_label in (("on (chat returns)", on, "chat thread"), ("on (all committed)", durable, "process")):
        print(f"| {label} | {median_ms(runs, 0):.1f} | {paired(runs, 0)} | {median_ms(runs, 1):.1f} ({cpu_label}) | {paired(runs, 1)} |")
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
