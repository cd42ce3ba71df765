"""Tool execution: parley vs classic pyautogen 0.2, each in its own environment, in one run.

    python bench/bench_tools.py [--pyautogen-python /tmp/venv-pyautogen/bin/python] [--markdown]

Measures, through the same public API in both libraries:
- schema: ``get_function_schema`` of a 3-parameter function (µs per schema);
- overhead: ``agent.generate_tool_calls_reply`` for a message with one call of a trivial sync
  function (µs per call: argument parsing, validation, execution, answer);
- parallel: one message with 4 calls of a sync function sleeping 0.2 s (wall seconds);
- MCP (parley only): one tool call over stdio and over streamable HTTP (ms per call).

Not a test (its name does not start with ``test_``); results go to docs/bench/tools.md.
Create the peer environment with:
    python -m venv /tmp/venv-pyautogen && /tmp/venv-pyautogen/bin/pip install pyautogen==0.2.35
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Literal

HERE = Path(__file__).resolve().parent
SLEEP_S = 0.2
PARALLEL_CALLS = 4


def harness(lib: str) -> dict:
    """Runs inside the library's own interpreter."""
    if lib == "parley":
        from parley import ConversableAgent
        from parley.tools.function_utils import get_function_schema
    else:
        from autogen import ConversableAgent
        from autogen.function_utils import get_function_schema

    def forecast(
        city: Annotated[str, "city"], days: Annotated[int, "days"] = 1, unit: Literal["C", "F"] = "C"
    ) -> str:
        return f"{city}:{days}{unit}"

    def nap(label: Annotated[str, "label"]) -> str:
        time.sleep(SLEEP_S)
        return label

    result: dict = {}
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        get_function_schema(forecast, description="Forecast.")
    result["schema_us"] = (time.perf_counter() - start) / n * 1e6

    agent = ConversableAgent("executor", llm_config=False, human_input_mode="NEVER", function_map={"forecast": forecast, "nap": nap})
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "1", "type": "function", "function": {"name": "forecast", "arguments": '{"city": "Lyon", "days": 2}'}}],
    }
    for _ in range(50):  # warm up (parley wraps and caches the function on first use)
        agent.generate_tool_calls_reply(messages=[message])
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        final, reply = agent.generate_tool_calls_reply(messages=[message])
    result["overhead_us"] = (time.perf_counter() - start) / n * 1e6
    assert reply["tool_responses"][0]["content"] == "Lyon:2C", reply

    parallel = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": str(i), "type": "function", "function": {"name": "nap", "arguments": json.dumps({"label": str(i)})}}
            for i in range(PARALLEL_CALLS)
        ],
    }
    start = time.perf_counter()
    final, reply = agent.generate_tool_calls_reply(messages=[parallel])
    result["parallel_s"] = time.perf_counter() - start
    assert [r["content"] for r in reply["tool_responses"]] == [str(i) for i in range(PARALLEL_CALLS)]

    if lib == "parley":
        result.update(mcp_latencies())
    return result


def mcp_latencies() -> dict:
    import asyncio

    from parley.tools.mcp import McpToolset

    server = str(HERE.parent / "tests" / "tools" / "mcp_server.py")

    async def per_call_ms(toolset: McpToolset) -> float:
        add = {t.name: t for t in toolset.tools}["add"]
        for _ in range(10):
            await add.call({"a": 1, "b": 2})
        n = 200
        start = time.perf_counter()
        for _ in range(n):
            await add.call({"a": 1, "b": 2})
        return (time.perf_counter() - start) / n * 1e3

    out = {}
    start = time.perf_counter()
    with McpToolset(command=sys.executable, args=[server, "stdio"]) as toolset:
        out["mcp_stdio_start_s"] = time.perf_counter() - start
        out["mcp_stdio_ms"] = asyncio.run(per_call_ms(toolset))

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, server, "http", str(port)], stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        with McpToolset(url=f"http://127.0.0.1:{port}/mcp") as toolset:
            out["mcp_http_ms"] = asyncio.run(per_call_ms(toolset))
    finally:
        process.terminate()
        process.wait(10)
    return out


def run(python: str, lib: str) -> dict | None:
    env = dict(os.environ, PYTHONPATH=str(HERE))
    done = subprocess.run([python, __file__, "--harness", lib], capture_output=True, text=True, timeout=600, env=env)
    if done.returncode != 0:
        print(f"{lib} failed: {done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--harness", choices=["parley", "pyautogen"])
    parser.add_argument("--pyautogen-python", default="/tmp/venv-pyautogen/bin/python")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    if args.harness:
        # Whatever the libraries print while executing goes nowhere; the result is the last line.
        real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")
        result = harness(args.harness)
        sys.stdout = real_stdout
        print(json.dumps(result))
        return

    results = {"parley": run(sys.executable, "parley")}
    if Path(args.pyautogen_python).exists():
        results["pyautogen 0.2.35"] = run(args.pyautogen_python, "pyautogen")
    rows = [
        ("get_function_schema, µs per schema", "schema_us", "{:.0f}"),
        ("one tool call, µs (generate_tool_calls_reply)", "overhead_us", "{:.0f}"),
        (f"{PARALLEL_CALLS} parallel calls of a {SLEEP_S:g} s sync tool, s", "parallel_s", "{:.2f}"),
        ("MCP stdio: start server + list tools, s", "mcp_stdio_start_s", "{:.2f}"),
        ("MCP stdio: one tool call, ms", "mcp_stdio_ms", "{:.2f}"),
        ("MCP streamable HTTP: one tool call, ms", "mcp_http_ms", "{:.2f}"),
    ]
    libs = [lib for lib, r in results.items() if r]
    if args.markdown:
        print("| measure | " + " | ".join(libs) + " |")
        print("|---|" + "---|" * len(libs))
    for label, key, fmt in rows:
        cells = [fmt.format(results[lib][key]) if key in results[lib] else "—" for lib in libs]
        print(f"| {label} | " + " | ".join(cells) + " |" if args.markdown else f"{label:55} " + "  ".join(cells))


if __name__ == "__main__":
    main()
