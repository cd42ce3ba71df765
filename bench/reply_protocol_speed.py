"""Tokens/s of the embedded model with and without the reply protocol's code-block grammar.

Generation only: each prompt's evaluation (the same request with max_tokens=1) is subtracted;
CPU time of this process, which is fairer than wall time on a shared machine. Greedy, three
prompts. Both sides generate the same number of tokens per prompt (the grammar's reply stops at
its closing fence; the reply without it is cut at that many tokens), so the comparison is per
token on the same prompts. Several rounds, the order of the two sides alternating (the first
side after the prompt-only run reads slower); the ratio of the best rounds is the figure,
each round's is printed too. On a loaded machine
the rounds still differ by more than the grammar costs, so the time spent choosing each token
(``TokenSampler.sample``, thread CPU time) is measured too: the grammar changes only that step;
the same tokens/s ratio follows from the time per token without a grammar plus the extra
sampling time per token. Run:
``python bench/reply_protocol_speed.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from parley import AssistantAgent
from parley.agents import reply_protocol
from parley.models import local_sampling
from parley.models.local import LocalModelClient
from parley.models.protocol import ModelRequest

TASKS = ["Print the first ten square numbers.",
         "Write a Python script that uses 'import datetime' and prints today's date.",
         "Count the words in the sentence 'the quick brown fox'."]
GRAMMAR = reply_protocol.request_format("code", True)
SAMPLING: dict[bool, list] = {False: [0, 0.0], True: [0, 0.0]}  # grammar on? -> [tokens, thread CPU seconds]


def _timed_sample(sample):  # type: ignore[no-untyped-def]
    def timed(self: local_sampling.TokenSampler, excluded: list[int] | None = None) -> int:
        started = time.thread_time()
        token = sample(self, excluded)
        entry = SAMPLING[self._grammar is not None]
        entry[0] += 1
        entry[1] += time.thread_time() - started
        return token
    return timed


local_sampling.TokenSampler.sample = _timed_sample(local_sampling.TokenSampler.sample)  # type: ignore[method-assign]


async def generate(client: LocalModelClient, task: str, response_format: dict | None, max_tokens: int) -> tuple[int, float]:
    """(completion tokens, CPU seconds) of one request evaluated from scratch."""
    messages = [{"role": "system", "content": AssistantAgent.DEFAULT_SYSTEM_MESSAGE}, {"role": "user", "content": task}]
    model = client.load()
    model.llama.reset()
    model._saved.clear()  # no KV reuse between runs: every run evaluates the same prompt
    started = time.process_time()
    response = await client.create(ModelRequest(messages, response_format=response_format,
                                                params={"max_tokens": max_tokens}))
    return response.completion_tokens, time.process_time() - started


async def one_round(client: LocalModelClient, counts: dict[str, int], grammar_first: bool) -> dict[str, tuple[int, float]]:
    """Both sides on every prompt, ``counts[task]`` tokens each. The side that runs first right
    after the prompt-only run reads slower (an A/A run, no grammar on both sides: 92-94 % for the
    first), so the order alternates between rounds."""
    totals = {"no grammar": [0, 0.0], "code grammar": [0, 0.0]}
    sides = [("code grammar", GRAMMAR), ("no grammar", None)]
    for task in TASKS:
        _, prompt_cpu = await generate(client, task, None, 1)
        for name, response_format in sides if grammar_first else sides[::-1]:
            tokens, cpu = await generate(client, task, response_format, counts[task])
            totals[name][0] += tokens
            totals[name][1] += cpu - prompt_cpu
    return {name: (int(n), float(cpu)) for name, (n, cpu) in totals.items()}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    client = LocalModelClient({"api_type": "local", "temperature": 0, "repeat_penalty": 1.0})
    started = time.perf_counter()
    client.load()
    print(f"load {time.perf_counter() - started:.2f} s")
    # Warm-up, and each prompt's token count: the grammar's reply stops at its closing fence.
    counts = {task: (await generate(client, task, GRAMMAR, 160))[0] for task in TASKS}
    best: dict[str, float] = {}
    for round_ in range(args.rounds):
        rates = {name: n / cpu for name, (n, cpu) in (await one_round(client, counts, round_ % 2 == 0)).items()}
        for name, rate in rates.items():
            best[name] = max(best.get(name, 0.0), rate)
        print(f"round {round_}: " + ", ".join(f"{name} {rate:.1f}" for name, rate in rates.items())
              + f" tokens per CPU second: {100 * rates['code grammar'] / rates['no grammar']:.1f} %", flush=True)
    print(f"best rounds: no grammar {best['no grammar']:.1f}, code grammar {best['code grammar']:.1f} tokens per CPU "
          f"second: {100 * best['code grammar'] / best['no grammar']:.1f} %")
    per_token = {on: cpu / n for on, (n, cpu) in SAMPLING.items()}
    raw = 1 / best["no grammar"]  # seconds per token without a grammar, best round
    print(f"sampling: {1e6 * per_token[False]:.0f} us per token without a grammar, {1e6 * per_token[True]:.0f} us with "
          f"it: at {best['no grammar']:.1f} tokens/s without, {100 * raw / (raw + per_token[True] - per_token[False]):.1f} %")


if __name__ == "__main__":
    asyncio.run(main())
