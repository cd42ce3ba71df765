"""Client CPU per model request, without agents: the provider clients alone against local fake servers.

M requests run at once through ``OpenAIClient.create`` / ``AnthropicClient.create`` (a system
prompt of ~1.3 KB and a user turn, as an assistant's first turn), twice: first on a fresh pool,
so every request opens its loopback connection, then again on the connections the first wave
left open. The fake endpoints (``tests/servers/openai_fake.py``, ``anthropic_fake.py``) run in
their own processes and answer after 100 ms, so their CPU is not counted.

    python bench/bench_model_requests.py [--requests 1000] [--repeats 3] [--markdown]
        [--cases openai openai-stream anthropic anthropic-stream]
        [--path lean|sdk] [--codec auto|json] [--loop asyncio|uvloop] [--instructions]

Reported per wave: the client process's CPU time (user + system, ``getrusage``) per request, the
part of it spent in the cyclic garbage collector (``gc.callbacks``), and the wall time. ``--path
sdk`` sends through the SDKs (the path the lean one replaced, for before/after numbers);
``--codec json`` makes the lean path use the standard library's json instead of orjson.

CPU times on a shared machine move with its load: the report gives the median and the range of
``--repeats`` runs, each in a fresh interpreter, and the load average. ``--instructions`` counts
instead the instructions one request costs, which the load does not move: one request at a time
on one open connection (an endpoint answering at once), under valgrind's callgrind, 20 and 120
requests, the difference divided by 100 (imports and start-up cancel out).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVERS = {"openai": HERE.parent / "tests" / "servers" / "openai_fake.py",
           "anthropic": HERE.parent / "tests" / "servers" / "anthropic_fake.py"}
MODEL_DELAY_S = 0.1
SYSTEM_PROMPT = "You are a helpful AI assistant. Solve tasks using your coding and language skills. " * 16
REPLY = "Hello from the fake server."


class GcClock:
    """CPU time spent in the cyclic garbage collector, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_client(case: str, base_url: str, path: str) -> object:
    if case.startswith("openai"):
        from parley.models.openai import OpenAIClient

        client: object = OpenAIClient(model="gpt-4o-mini", base_url=base_url, api_key="sk-bench")
    else:
        from parley.models.anthropic import AnthropicClient

        client = AnthropicClient(model="claude-bench", base_url=base_url, api_key="sk-ant-bench")
    if path == "sdk":
        client._lean = None  # type: ignore[attr-defined]  # the SDK path, for the "before" numbers
    return client


async def run_waves(case: str, base_url: str, requests: int, path: str, codec: str) -> dict:
    from parley.models import openai_http
    from parley.models.protocol import ModelRequest

    if codec == "json":
        openai_http.dumps, openai_http.loads = openai_http._dumps_with_json, openai_http._loads_with_json
    client = make_client(case, base_url, path)
    stream = case.endswith("-stream")
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "Say hello."}]
    clock = GcClock()

    async def wave(count: int) -> dict:
        batch = [ModelRequest(messages=messages, params={}, stream=stream) for _ in range(count)]
        clock.seconds = 0.0
        cpu, started = cpu_seconds(), time.perf_counter()
        replies = await asyncio.gather(*(client.create(request) for request in batch))  # type: ignore[attr-defined]
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        if any(reply.message["content"] != REPLY for reply in replies):
            raise RuntimeError(f"{case}: a reply was not the fake server's")
        return {"cpu_ms": 1000 * cpu / count, "gc_ms": 1000 * clock.seconds / count, "seconds": elapsed}

    await wave(1)  # imports, the session, the SDK's API version: one-off costs, not per request
    await asyncio.sleep(0.3)  # the background imports finish
    session_pool = await wave(requests)
    return {"new": session_pool, "open": await wave(requests)}


async def run_sequential(case: str, base_url: str, requests: int, path: str, codec: str) -> None:
    """``requests`` requests one after the other (for instruction counts: no concurrency to vary)."""
    from parley.models import openai_http
    from parley.models.protocol import ModelRequest

    if codec == "json":
        openai_http.dumps, openai_http.loads = openai_http._dumps_with_json, openai_http._loads_with_json
    client = make_client(case, base_url, path)
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "Say hello."}]
    await client.create(ModelRequest(messages=messages, params={}, stream=case.endswith("-stream")))  # type: ignore[attr-defined]
    await asyncio.sleep(0.5)  # the background imports finish before counting starts to matter
    for _ in range(requests):
        reply = await client.create(ModelRequest(messages=messages, params={}, stream=case.endswith("-stream")))  # type: ignore[attr-defined]
        if reply.message["content"] != REPLY:
            raise RuntimeError(f"{case}: a reply was not the fake server's")


def instructions(args: argparse.Namespace, case: str, base_url: str, requests: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__, "--harness",
         "--sequential", "--cases", case, "--base-url", base_url, "--requests", str(requests), "--path", args.path,
         "--codec", args.codec], capture_output=True, text=True, timeout=1800, env={**os.environ, "PYTHONHASHSEED": "0"})
    if out.returncode != 0:
        raise RuntimeError(f"{case} under callgrind failed: {out.stderr[-2000:]}")
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))  # type: ignore[union-attr]


def harness(args: argparse.Namespace) -> None:
    if args.sequential:
        asyncio.run(run_sequential(args.cases[0], args.base_url, args.requests, args.path, args.codec))
        return
    coroutine = run_waves(args.cases[0], args.base_url, args.requests, args.path, args.codec)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(coroutine)
    else:
        result = asyncio.run(coroutine)
    print(json.dumps(result))


def start_server(kind: str, delay: float = MODEL_DELAY_S) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen([sys.executable, str(SERVERS[kind]), "--delay", str(delay)], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith("PORT "):
        server.kill()
        raise RuntimeError(f"the fake {kind} server did not start: {line!r}")
    root = f"http://127.0.0.1:{line.split()[1]}"
    return server, root + "/v1" if kind == "openai" else root


def summary(runs: list[dict], wave: str) -> str:
    cpu = [run[wave]["cpu_ms"] for run in runs]
    gc_ms = statistics.median(run[wave]["gc_ms"] for run in runs)
    wall = statistics.median(run[wave]["seconds"] for run in runs)
    return f"{statistics.median(cpu):.3f} ms ({min(cpu):.3f}–{max(cpu):.3f}), GC {gc_ms:.3f} ms, {wall:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=["openai", "openai-stream", "anthropic", "anthropic-stream"],
                        choices=["openai", "openai-stream", "anthropic", "anthropic-stream"])
    parser.add_argument("--path", choices=["lean", "sdk"], default="lean")
    parser.add_argument("--codec", choices=["auto", "json"], default="auto")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--instructions", action="store_true", help="instructions per request (callgrind) instead of CPU time")
    parser.add_argument("--harness", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sequential", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.harness:
        harness(args)
        return
    if args.instructions:
        servers = {kind: start_server(kind, delay=0.0) for kind in {case.split("-")[0] for case in args.cases}}
        try:
            print(f"| case (path {args.path}, codec {args.codec}) | instructions per request |\n|---|---|")
            for case in args.cases:
                base_url = servers[case.split("-")[0]][1]
                low, high = instructions(args, case, base_url, 20), instructions(args, case, base_url, 120)
                print(f"| {case} | {(high - low) / 100:,.0f} |")
        finally:
            for server, _ in servers.values():
                server.terminate()
        return
    servers = {kind: start_server(kind) for kind in {case.split("-")[0] for case in args.cases}}
    rows = []
    try:
        for case in args.cases:
            runs = []
            for _ in range(args.repeats):
                out = subprocess.run(
                    [sys.executable, __file__, "--harness", "--cases", case, "--base-url", servers[case.split("-")[0]][1],
                     "--requests", str(args.requests), "--path", args.path, "--codec", args.codec, "--loop", args.loop],
                    capture_output=True, text=True, timeout=600)
                if out.returncode != 0:
                    raise RuntimeError(f"{case} failed: {out.stderr[-2000:]}")
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            rows.append((case, runs))
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(10)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    if args.markdown:
        print(f"{args.requests} concurrent requests, path {args.path}, codec {args.codec}, loop {args.loop}; "
              f"median (range) of {args.repeats} runs; load average {load}\n")
    print("| case | CPU per request, new connections | CPU per request, open connections |")
    print("|---|---|---|")
    for case, runs in rows:
        print(f"| {case} | {summary(runs, 'new')} | {summary(runs, 'open')} |")
    if not args.markdown:
        print(f"load average {load}")


if __name__ == "__main__":
    main()
