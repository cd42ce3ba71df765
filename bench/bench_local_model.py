"""Benchmark of the embedded local model (SmolLM2-135M on llama.cpp).

1. Generation tokens/s: raw llama-cpp-python (``Llama.create_chat_completion``) vs parley's
   ``LocalModelClient`` on the same prompts, greedy, same sampling options, same Llama object.
2. A 20-turn conversation, latency per turn, with KV reuse (parley) and without (the cache
   cleared before every turn, as a client that re-sends the history to a fresh context would).
3. Model load time: the first load in a process, a load in a second process, and a second
   client in the same process.

Run: ``python bench/bench_local_model.py [--out docs/bench/local_model.md]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import textwrap
import time

from parley.models.local import LocalModelClient
from parley.models.protocol import ModelRequest

PROMPTS = [
    "Write a short story about a robot who learns to paint.",
    "Explain how a bicycle works, step by step.",
    "Describe a walk through a forest in autumn.",
    "Write a letter to a friend about your holiday by the sea.",
    "Explain why the sky is blue to a ten-year-old.",
]
SYSTEM = "You are a helpful assistant."
OPTIONS = {"temperature": 0.0, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1}


def chat(prompt: str) -> list[dict]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]


def bench_tokens_per_second(client: LocalModelClient, max_tokens: int, rounds: int) -> dict:
    """Wall and CPU (process) time per side: CPU time is the fairer number on a busy machine."""
    llama = client.load().llama
    totals = {side: {"tokens": 0, "wall": 0.0, "cpu": 0.0} for side in ("raw", "parley")}

    def timed(side: str, call) -> None:
        llama.reset()
        wall, cpu = time.perf_counter(), time.process_time()
        tokens = call()
        totals[side]["wall"] += time.perf_counter() - wall
        totals[side]["cpu"] += time.process_time() - cpu
        totals[side]["tokens"] += tokens

    for _ in range(rounds):
        for prompt in PROMPTS:
            timed("raw", lambda: llama.create_chat_completion(
                messages=chat(prompt), max_tokens=max_tokens, **OPTIONS)["usage"]["completion_tokens"])
            timed("parley", lambda: asyncio.run(client.create(ModelRequest(
                messages=chat(prompt), params={"max_tokens": max_tokens, **OPTIONS}))).completion_tokens)
    for side in totals.values():
        side["per_wall_s"] = side["tokens"] / side["wall"]
        side["per_cpu_s"] = side["tokens"] / side["cpu"]
    return totals


def bench_turns(client: LocalModelClient, turns: int, max_tokens: int, reuse: bool, repeats: int) -> list[tuple]:
    """Per turn, median over ``repeats`` runs: (wall s, CPU s, prompt tokens, evaluated, completion tokens)."""
    model = client.load()
    runs = []
    for _ in range(repeats):
        model.llama.reset()
        messages = [{"role": "system", "content": "You are a storyteller. Every answer is a long, detailed story."}]
        rows = []
        for turn in range(1, turns + 1):
            messages.append({"role": "user", "content": f"Tell me story number {turn}, about a lighthouse keeper."})
            if not reuse:
                model.llama.reset()
            wall, cpu = time.perf_counter(), time.process_time()
            response = asyncio.run(client.create(ModelRequest(messages=messages, params={"max_tokens": max_tokens, **OPTIONS})))
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            messages.append(response.message)
            rows.append((wall, cpu, response.prompt_tokens, response.raw.prompt_tokens_evaluated, response.completion_tokens))
        runs.append(rows)
    return [
        (statistics.median(r[turn][0] for r in runs), statistics.median(r[turn][1] for r in runs), *runs[0][turn][2:])
        for turn in range(turns)
    ]


def bench_two_conversations(client: LocalModelClient, turns: int, max_tokens: int, keep_states: bool) -> list[tuple]:
    """Two conversations alternating on one model (two local agents): (latency, evaluated) per turn of A."""
    from parley.models import local

    model = client.load()
    model.llama.reset()
    model._saved.clear()
    saved_states = local._SAVED_STATES
    local._SAVED_STATES = saved_states if keep_states else 0
    try:
        histories = {
            name: [{"role": "system", "content": f"You are {name}, a storyteller. " + "Tell long, detailed stories. " * 10}]
            for name in ("A", "B")
        }
        rows = []
        for turn in range(1, turns + 1):
            for name, messages in histories.items():
                messages.append({"role": "user", "content": f"Story {turn}, please."})
                started = time.perf_counter()
                response = asyncio.run(client.create(ModelRequest(messages=messages, params={"max_tokens": max_tokens, **OPTIONS})))
                messages.append(response.message)
                if name == "A":
                    rows.append((time.perf_counter() - started, response.prompt_tokens, response.raw.prompt_tokens_evaluated))
        return rows
    finally:
        local._SAVED_STATES = saved_states
        model._saved.clear()


LOAD_SNIPPET = textwrap.dedent("""
    import time
    started = time.perf_counter()
    import llama_cpp
    from parley.models.local import LocalModelClient
    imported = time.perf_counter()
    LocalModelClient({"api_type": "local"}).load()
    print(imported - started, time.perf_counter() - imported)
""")


def bench_load() -> dict:
    """Seconds to import llama_cpp and parley, and to load the model, in two fresh processes."""
    runs = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", LOAD_SNIPPET], capture_output=True, text=True, check=True).stdout
        runs.append(tuple(float(x) for x in out.split()))
    LocalModelClient({"api_type": "local"}).load()
    started = time.perf_counter()
    LocalModelClient({"api_type": "local"}).load()
    return {"first_process": runs[0], "second_process": runs[1], "same_process": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the markdown results to this file")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--turn-tokens", type=int, default=32)
    args = parser.parse_args()

    load_average = os.getloadavg()[0]
    load = bench_load()
    client = LocalModelClient({"api_type": "local"})
    client.load()
    asyncio.run(client.create(ModelRequest(messages=chat("Hi"), params={"max_tokens": 8})))  # warm-up
    speed = bench_tokens_per_second(client, args.max_tokens, args.rounds)
    raw, ours = speed["raw"], speed["parley"]
    with_reuse = bench_turns(client, args.turns, args.turn_tokens, reuse=True, repeats=3)
    without_reuse = bench_turns(client, args.turns, args.turn_tokens, reuse=False, repeats=1)
    switching = bench_two_conversations(client, args.turns // 2, args.turn_tokens, keep_states=True)
    not_switching = bench_two_conversations(client, args.turns // 2, args.turn_tokens, keep_states=False)

    def ratio(rows: list, column: int) -> float:
        return rows[-1][column] / rows[0][column]

    lines = [
        "## Local model (SmolLM2-135M-Instruct Q4_1, llama-cpp-python)",
        "",
        f"Machine: {_machine()}, load average {load_average:.1f} when the run started."
        f" Greedy decoding, `repeat_penalty` 1.1, n_ctx 4096, n_threads {client.n_threads}.",
        "",
        "### Generation speed",
        "",
        f"{len(PROMPTS)} prompts × {args.rounds} rounds, up to {args.max_tokens} tokens each, same Llama object,"
        " KV cache cleared before each call (time includes prompt evaluation).",
        "",
        "| | tokens | tokens/s (wall) | tokens/s (CPU time) |",
        "|---|---:|---:|---:|",
        f"| raw llama-cpp-python `create_chat_completion` | {raw['tokens']} | {raw['per_wall_s']:.1f} | {raw['per_cpu_s']:.1f} |",
        f"| parley `LocalModelClient.create` | {ours['tokens']} | {ours['per_wall_s']:.1f} | {ours['per_cpu_s']:.1f} |",
        "",
        f"parley / raw: **{ours['per_wall_s'] / raw['per_wall_s'] * 100:.1f} %** by wall time,"
        f" **{ours['per_cpu_s'] / raw['per_cpu_s'] * 100:.1f} %** by CPU time (target ≥ 95 %).",
        "",
        f"### {args.turns}-turn conversation",
        "",
        f"Each turn adds a user message and the model's reply (up to {args.turn_tokens} tokens) to the history."
        " Without reuse the KV cache is cleared before every turn, so the whole history is evaluated again."
        " With reuse: median of 3 runs per turn; without: one run.",
        "",
        "| turn | prompt tokens | evaluated (reuse) | with KV reuse: wall s | CPU s | evaluated (no reuse) | without: wall s | CPU s | reply tokens |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *(f"| {turn} | {a[2]} | {a[3]} | {a[0]:.3f} | {a[1]:.3f} | {b[3]} | {b[0]:.3f} | {b[1]:.3f} | {a[4]} / {b[4]} |"
          for turn, (a, b) in enumerate(zip(with_reuse, without_reuse), start=1)),
        "",
        f"Turn {args.turns} / turn 1 latency with KV reuse: **{ratio(with_reuse, 0):.2f}×** wall,"
        f" **{ratio(with_reuse, 1):.2f}×** CPU (target ≤ 1.5×); without: {ratio(without_reuse, 0):.2f}× wall,"
        f" {ratio(without_reuse, 1):.2f}× CPU.",
        "",
        "### Two conversations sharing the model",
        "",
        "Conversations A and B alternate turns on one model (two local agents talking, each with its own"
        " history). Rows are A's turns. With saved states, switching to B saves A's KV cache and"
        " switching back restores it; without, each switch re-evaluates the whole history.",
        "",
        "| A's turn | prompt tokens | evaluated (saved states) | latency (s) | evaluated (no saved states) | latency (s) |",
        "|---:|---:|---:|---:|---:|---:|",
        *(f"| {i} | {a[1]} | {a[2]} | {a[0]:.3f} | {b[2]} | {b[0]:.3f} |"
          for i, (a, b) in enumerate(zip(switching, not_switching), start=1)),
        "",
        "### Model load",
        "",
        "| | import llama_cpp + parley (s) | load the model (s) |",
        "|---|---:|---:|",
        f"| first new process | {load['first_process'][0]:.3f} | {load['first_process'][1]:.3f} |",
        f"| second new process | {load['second_process'][0]:.3f} | {load['second_process'][1]:.3f} |",
        f"| a second client in the same process (shared model) | – | {load['same_process']:.6f} |",
        "",
        "Notes: the machine is shared (other jobs were running), so absolute speeds are below the"
        " ~100 tokens/s SmolLM2-135M reaches on an idle core; the comparisons are interleaved call by"
        " call, and CPU time is reported because it is less disturbed by the other jobs. The"
        " first-process load is after an earlier run, so the GGUF file was in the OS page cache."
        " Building llama-cpp-python 0.3.36 from source took about 17 minutes on the 2 busy cores.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


def _machine() -> str:
    import platform

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
