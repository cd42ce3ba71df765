"""Concurrent two-agent chats against a local OpenAI-compatible endpoint, parley vs pyautogen 0.2.35.

N chats run at once (``asyncio.gather`` of ``a_initiate_chat``); in each, a user agent without a
model sends a task and answers "Continue.", and an assistant backed by the endpoint replies twice
(two model turns, ``max_turns=2``). The endpoint is ``tests/servers/openai_fake.py`` in its own
process, answering every request after 100 ms, so the ideal time is 0.2 s whatever N is.
The time covers the chats, not building the agents nor a one-chat warm-up that pays each
library's one-off costs (importing the SDK, opening its client). No cache on either side.

    python bench/bench_concurrent_chats.py [--chats 100 1000 10000] [--pyautogen-python PATH]
                                           [--pyautogen-max 1000] [--repeats 3] [--markdown]
                                           [--gc-freeze] [--loop asyncio|uvloop]

Reported per run: wall time, the client process's CPU time per model request (``process_time``
over the chats / 2N) with the part the cyclic garbage collector took (``gc.callbacks``), its peak
RSS (``ru_maxrss``), and the resident memory each idle agent pair and each finished chat adds (RSS
deltas, so page-granular: an estimate); for ``--repeats`` > 1 the fastest run, and the median and
range of the CPU per request over all runs (CPU time moves with the machine's load). The peer runs
only up to ``--pyautogen-max`` chats (it takes minutes beyond). Two what-ifs for parley, both the
application's choice and not the library's: ``--gc-freeze`` calls ``gc.freeze()`` once the agents
are built (the collector then skips them), ``--loop uvloop`` runs the chats on uvloop.

Create the peer environment with:
    python -m venv /tmp/venv-pyautogen && /tmp/venv-pyautogen/bin/pip install pyautogen==0.2.35

Each library runs this same file with ``--harness`` in its own interpreter (the peer is not a
parley dependency); it prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER = HERE.parent / "tests" / "servers" / "openai_fake.py"
MODEL_DELAY_S = 0.1


def rss_bytes() -> int:
    """The process's resident set size now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class GcClock:
    """CPU time spent in the cyclic garbage collector, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


async def run_chats(lib: str, chats: int, base_url: str, gc_freeze: bool = False) -> dict:
    """Run ``chats`` concurrent chats with ``lib`` (``parley`` or ``autogen``); the measures as a dict."""
    module = __import__(lib)
    rss_before_agents = rss_bytes()
    llm_config = {
        "config_list": [{"model": "gpt-4o-mini", "base_url": base_url, "api_key": "sk-bench"}],
        "cache_seed": None,  # pyautogen caches by default; parley only when asked
    }
    pairs = []
    for i in range(chats + 1):
        user = module.ConversableAgent(f"user{i}", llm_config=False, human_input_mode="NEVER", default_auto_reply="Continue.")
        assistant = module.AssistantAgent(f"assistant{i}", llm_config=llm_config)
        pairs.append((user, assistant))
    rss_agents = rss_bytes()
    warm_user, warm_assistant = pairs.pop()
    await warm_user.a_initiate_chat(warm_assistant, message="Say hello.", max_turns=2, silent=True)
    rss_before_chats = rss_bytes()
    if gc_freeze:
        gc.freeze()
    clock = GcClock()
    gc.callbacks.append(clock)
    started = time.perf_counter()
    cpu_started = time.process_time()
    results = await asyncio.gather(*(
        user.a_initiate_chat(assistant, message="Say hello.", max_turns=2, silent=True) for user, assistant in pairs
    ))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    gc.callbacks.remove(clock)
    replies = sum(1 for result in results for m in result.chat_history if m.get("content") == "Hello from the fake server.")
    if replies != 2 * chats:
        raise RuntimeError(f"{lib}: expected {2 * chats} model replies, got {replies}")
    return {
        "seconds": elapsed, "cpu_seconds": cpu, "cpu_ms_per_request": 1000 * cpu / (2 * chats),
        "gc_ms_per_request": 1000 * clock.seconds / (2 * chats),
        "agent_pair_kib": (rss_agents - rss_before_agents) / 1024 / (chats + 1),
        "finished_chat_kib": (rss_bytes() - rss_before_chats) / 1024 / chats,
    }


def harness(args: argparse.Namespace) -> None:
    chats = run_chats(args.lib, args.chats[0], args.base_url, gc_freeze=args.gc_freeze)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(chats)
    else:
        result = asyncio.run(chats)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"lib": args.lib, "chats": args.chats[0], **result, "peak_rss_mib": peak_mib}))


def start_server() -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen([sys.executable, str(SERVER), "--delay", str(MODEL_DELAY_S)], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith("PORT "):
        server.kill()
        raise RuntimeError(f"the fake server did not start: {line!r}")
    return server, f"http://127.0.0.1:{line.split()[1]}/v1"


def measure(python: str, lib: str, chats: int, base_url: str, repeats: int, variant: list[str]) -> dict | None:
    """The fastest of ``repeats`` runs (see :func:`run_chats`) with every run's CPU per request, or
    None if the library failed."""
    best = None
    cpu_per_request = []
    for _ in range(repeats):
        out = subprocess.run(
            [python, __file__, "--harness", "--lib", lib, "--chats", str(chats), "--base-url", base_url, *variant],
            capture_output=True, text=True, timeout=600, env={**os.environ, "OPENAI_API_KEY": "sk-bench"},
        )
        if out.returncode != 0:
            print(f"{lib} with {chats} chats failed: {out.stderr[-2000:]}", file=sys.stderr)
            return None
        result = json.loads(out.stdout.strip().splitlines()[-1])
        cpu_per_request.append(result["cpu_ms_per_request"])
        if best is None or result["seconds"] < best["seconds"]:
            best = result
    if best is not None:
        best["all_cpu_ms_per_request"] = cpu_per_request
    return best


def cell(result: dict | str | None) -> str:
    if result is None:
        return "failed"
    if isinstance(result, str):
        return result
    runs = result.get("all_cpu_ms_per_request") or [result["cpu_ms_per_request"]]
    spread = f" (median of {len(runs)} {statistics.median(runs):.2f}, {min(runs):.2f}–{max(runs):.2f})" if len(runs) > 1 else ""
    return (f"{result['seconds']:.2f} s, {result['cpu_ms_per_request']:.2f} ms CPU/request{spread}, "
            f"GC {result.get('gc_ms_per_request', 0):.2f} ms of it, peak {result['peak_rss_mib']:.0f} MiB "
            f"(agent pair {result['agent_pair_kib']:.0f} KiB, finished chat {result['finished_chat_kib']:.1f} KiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--pyautogen-python", default="/work/wt/pyautogen-venv/bin/python")
    parser.add_argument("--pyautogen-max", type=int, default=1000, help="run the peer only up to this many chats")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print a markdown section for docs/bench/models.md")
    parser.add_argument("--gc-freeze", action="store_true", help="parley only: gc.freeze() once the agents are built")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio", help="parley only: the event loop")
    parser.add_argument("--harness", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--lib", default="parley", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.harness:
        harness(args)
        return
    peers = [("parley", sys.executable, "parley")]
    if os.path.exists(args.pyautogen_python):
        peers.append(("pyautogen 0.2.35", args.pyautogen_python, "autogen"))
    else:
        print(f"{args.pyautogen_python} not found: measuring parley only", file=sys.stderr)
    server, base_url = start_server()
    try:
        rows = []
        for chats in args.chats:
            variant = [*(["--gc-freeze"] if args.gc_freeze else []), "--loop", args.loop]
            rows.append((chats, [
                measure(python, lib, chats, base_url, args.repeats, variant if lib == "parley" else [])
                if lib == "parley" or chats <= args.pyautogen_max else "not run"
                for _, python, lib in peers
            ]))
    finally:
        server.terminate()
        server.wait(10)
    header = "| concurrent chats (2 model turns each, 100 ms endpoint) | " + " | ".join(name for name, _, _ in peers) + " |"
    lines = [header, "|" + "---|" * (len(peers) + 1)]
    for chats, times in rows:
        lines.append(f"| {chats} | " + " | ".join(cell(t) for t in times) + " |")
    if args.markdown:
        print("## Concurrent chats against a local OpenAI-compatible endpoint\n")
        print(f"Best of {args.repeats} runs; `python bench/bench_concurrent_chats.py --markdown`. "
              f"Ideal: {2 * MODEL_DELAY_S:.1f} s (two sequential 100 ms model turns). Wall time, with the "
              f"client process's CPU time per model request, peak RSS, and the memory an idle agent pair and "
              f"a finished chat add (the fake endpoint runs in its own process).\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
