"""parley Studio: many runs active at once in one server against a slow model endpoint.

Starts the fake OpenAI server (a fixed delay per answer, default 100 ms) and a ``parley studio``
process, then starts N runs (default 100) of a two-agent team (an assistant and a user proxy,
``max_turns`` 40: forty model calls per run, so that all are running at once) through the API, as fast as the API takes them, and
waits until all have finished. Reports the wall time until all finished against one run's
minimum (turns x delay), each run's own duration (median, max), and how many were running at once.

    python bench/bench_studio_runs.py [--runs 100] [--delay 0.1] [--turns 40]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def team(turns: int) -> dict:
    return {
        "version": 1,
        "name": "pair",
        "models": {"gpt": {"config_list": {"env_or_file": "OAI_CONFIG_LIST"}}},
        "agents": {
            "user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                     "default_auto_reply": "Go on."},
            "assistant": {"class": "AssistantAgent", "llm_config": "gpt"},
        },
        "run": {"initiator": "user", "recipient": "assistant", "message": "{task}", "task": "Count to ten.", "max_turns": turns},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.1, help="the model endpoint's seconds per answer")
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    model = subprocess.Popen([sys.executable, str(ROOT / "tests/servers/openai_fake.py"), "--delay", str(args.delay)],
                             stdout=subprocess.PIPE, text=True, env=env)
    studio = None
    try:
        assert model.stdout is not None
        model_port = int(model.stdout.readline().split()[1])
        env["OAI_CONFIG_LIST"] = json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-bench",
                                              "base_url": f"http://127.0.0.1:{model_port}/v1"}])
        with tempfile.TemporaryDirectory() as folder:
            port = free_port()
            studio = subprocess.Popen([sys.executable, "-m", "parley.cli", "studio", "--port", str(port), "--token", TOKEN,
                                       "--store", os.path.join(folder, "runs.db")], cwd=folder, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
            while True:
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            spec = team(args.turns)
            started = time.perf_counter()
            ids = [client.post("/api/runs", json={"team": spec}).json()["id"] for _ in range(args.runs)]
            posted_s = time.perf_counter() - started
            most_live = 0
            while True:
                runs = client.get("/api/runs").json()
                most_live = max(most_live, sum(1 for run in runs if run["live"]))
                if sum(1 for run in runs if run["status"] in ("finished", "failed")) == len(ids):
                    break
                time.sleep(0.2)
            wall_s = time.perf_counter() - started
            failed = [run["id"] for run in runs if run["status"] != "finished"]
            durations = sorted(run["updated_at"] - run["created_at"] for run in runs)
            messages = {run["messages"] for run in runs}
    finally:
        if studio is not None:
            studio.terminate()
            studio.wait(30)
        model.terminate()
    print(f"{args.runs} runs of {args.turns} turns against a {args.delay * 1000:.0f} ms model endpoint "
          f"(load {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs)")
    print(f"all started in {posted_s:.2f} s; all finished after {wall_s:.2f} s (one run alone: >= {args.turns * args.delay:.2f} s); "
          f"at most {most_live} seen running at once; failed: {len(failed)}; messages per run: {sorted(messages)}")
    print(f"each run's duration: median {statistics.median(durations):.2f} s, max {durations[-1]:.2f} s")


if __name__ == "__main__":
    main()
