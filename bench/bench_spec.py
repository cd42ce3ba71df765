"""Team specs (issue #17): loading and building the 7-agent research team from its spec, and how
fast ``parley run --help`` answers.

Targets: load + build the gallery's research team <= 20 ms after import; ``parley run --help``
<= 0.3 s (a fresh interpreter, as a shell runs it). Load: YAML text -> validated TeamSpec
(references checked). Build: the 8 agents (the manager included), the group chat, its model
references resolved (OAI_CONFIG_LIST set to a one-entry list, as the seed's users do).

    python bench/bench_spec.py [--repeats 50] [--help-repeats 10]

Prints one JSON line: medians and bests in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def bench_load_build(repeats: int) -> dict:
    os.environ["OAI_CONFIG_LIST"] = json.dumps([{"model": "gpt-4o-mini", "api_key": "sk-bench", "base_url": "http://127.0.0.1:9/v1"}])
    from parley.io.console import console_sink
    from parley.spec import Team, gallery

    console_sink.enabled = False
    text = gallery.text("research")
    Team.from_yaml(text).build()  # warm-up: first imports (agents, model clients) are not the spec's cost
    load, build, both = [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        team = Team.from_yaml(text)
        loaded = time.perf_counter()
        built = team.build()
        end = time.perf_counter()
        assert len(built.agents) == 8
        load.append((loaded - start) * 1000)
        build.append((end - loaded) * 1000)
        both.append((end - start) * 1000)
    return {"load_ms": round(statistics.median(load), 2), "build_ms": round(statistics.median(build), 2),
            "load_build_ms": round(statistics.median(both), 2), "load_build_best_ms": round(min(both), 2)}


def bench_help(repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": SRC}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "parley.cli", "run", "--help"], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    bare = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        bare.append(time.perf_counter() - start)
    return {"run_help_s": round(statistics.median(times), 3), "run_help_best_s": round(min(times), 3),
            "python_startup_s": round(statistics.median(bare), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--help-repeats", type=int, default=10)
    args = parser.parse_args()
    print(json.dumps({**bench_load_build(args.repeats), **bench_help(args.help_repeats)}))


if __name__ == "__main__":
    main()
