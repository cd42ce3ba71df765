"""Tokens/s of the embedded model with and without the reply protocol's code-block grammar.

Generation only: each prompt's evaluation (measured with max_tokens=1) is subtracted; CPU time of
this process, which is fairer than wall time on a shared machine. Greedy, three prompts, two
rounds. Run: ``python bench/reply_protocol_speed.py``.
"""

from __future__ import annotations

import asyncio
import time

from parley import AssistantAgent
from parley.agents import reply_protocol
from parley.models.local import LocalModelClient
from parley.models.protocol import ModelRequest

TASKS = ["Print the first ten square numbers.",
         "Write a Python script that uses 'import datetime' and prints today's date.",
         "Count the words in the sentence 'the quick brown fox'."]


async def run(client: LocalModelClient, response_format: dict | None, max_tokens: int | None = None) -> tuple[int, float]:
    tokens, cpu = 0, 0.0
    for task in TASKS:
        messages = [{"role": "system", "content": AssistantAgent.DEFAULT_SYSTEM_MESSAGE}, {"role": "user", "content": task}]
        model = client.load()
        model.llama.reset()
        model._saved.clear()  # no KV reuse between runs: every run evaluates the same prompt
        started = time.process_time()
        response = await client.create(ModelRequest(messages, response_format=response_format,
                                                    params={"max_tokens": max_tokens} if max_tokens else None))
        cpu += time.process_time() - started
        tokens += response.completion_tokens
    return tokens, cpu


async def main() -> None:
    client = LocalModelClient({"api_type": "local", "temperature": 0, "max_tokens": 160, "repeat_penalty": 1.0})
    started = time.perf_counter()
    client.load()
    print(f"load {time.perf_counter() - started:.2f} s")
    prompt_cpu = min([(await run(client, None, 1))[1] for _ in range(2)])
    for round_ in range(2):
        for name, response_format in (("no grammar", None), ("code grammar", reply_protocol.request_format("code", True))):
            tokens, cpu = await run(client, response_format)
            print(f"round {round_} {name:12}: {tokens} tokens, {tokens / (cpu - prompt_cpu):.1f} tokens per CPU second")


if __name__ == "__main__":
    asyncio.run(main())
