"""First-model-call latency of a fresh process: how much of the transport's import the background
warm-up at client construction hides, and what warming earlier (at ``config_list_from_json``)
could still win.

Each run is a fresh interpreter: ``import parley``, ``config_list_from_json`` (an OAI_CONFIG_LIST
file), an ``AssistantAgent``, then its first reply from the fake OpenAI endpoint
(``tests/servers/openai_fake.py`` in its own process, answering at once). Scenarios:

- ``as shipped``: the agent's client starts importing aiohttp (and orjson) in a background thread;
- ``no warm-up``: that thread is not started: the first call imports them itself;
- ``imported before``: aiohttp and orjson imported before the clock starts (the floor a warm-up
  started earlier, e.g. at ``config_list_from_json``, could reach);
- ``busy between``: as shipped, with 50 ms of the user's own CPU work between building the agent
  and the call (the import thread shares the interpreter lock with it);
- ``idle between``: as shipped, with 0.5 s of waiting (for input, a request, a file) between
  building the agent and the call: the import is done by the call (the wait is not counted).

Reported: the median of ``--repeats`` runs of the wall time from building the agent to its first
reply, and of ``import parley`` + ``config_list_from_json`` (which a warm-up must not slow down).

    python bench/bench_first_call.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVER = HERE.parent / "tests" / "servers" / "openai_fake.py"

RUN = """
import json, sys, time
scenario, config_path = sys.argv[1], sys.argv[2]
started = time.perf_counter()
if scenario == "imported before":
    import aiohttp, orjson
import parley
config_list = parley.config_list_from_json(config_path)
loaded = time.perf_counter()
if scenario == "no warm-up":
    from parley.models import openai_http
    openai_http.warm_imports = lambda **kwargs: None
    import parley.models.openai as provider
    provider.warm_imports = openai_http.warm_imports
before_agent = time.perf_counter()
assistant = parley.AssistantAgent("assistant", llm_config={"config_list": config_list, "cache_seed": None})
if scenario == "busy between":
    end = time.perf_counter() + 0.05
    while time.perf_counter() < end:
        pass
if scenario == "idle between":
    time.sleep(0.5)
    before_agent += 0.5
reply = assistant.generate_reply(messages=[{"role": "user", "content": "Say hello."}])
done = time.perf_counter()
assert reply == "Hello from the fake server.", reply
print(json.dumps({"first_call_ms": 1000 * (done - before_agent), "import_and_config_ms": 1000 * (loaded - started)}))
"""

SCENARIOS = ("as shipped", "no warm-up", "imported before", "busy between", "idle between")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # type: ignore[union-attr]
    results: dict[str, list[dict]] = {scenario: [] for scenario in SCENARIOS}
    try:
        port = line.split()[1]
        with tempfile.TemporaryDirectory() as folder:
            config = Path(folder, "OAI_CONFIG_LIST")
            entry = {"model": "gpt-4o-mini", "base_url": f"http://127.0.0.1:{port}/v1", "api_key": "sk-bench"}
            config.write_text(json.dumps([entry]))
            env = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
            for _ in range(args.repeats):
                for scenario in SCENARIOS:  # interleaved: a load change hits every scenario alike
                    out = subprocess.run([sys.executable, "-c", RUN, scenario, str(config)], capture_output=True, text=True,
                                         timeout=300, env=env)
                    if out.returncode != 0:
                        raise RuntimeError(f"{scenario}: {out.stderr[-2000:]}")
                    results[scenario].append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        server.wait(10)
    print(f"median of {args.repeats} fresh processes; load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}\n")
    print("| scenario | agent built → first reply | import parley + config_list_from_json |")
    print("|---|---|---|")
    for scenario, runs in results.items():
        first = statistics.median(run["first_call_ms"] for run in runs)
        loading = statistics.median(run["import_and_config_ms"] for run in runs)
        print(f"| {scenario} | {first:.0f} ms | {loading:.0f} ms |")


if __name__ == "__main__":
    main()
