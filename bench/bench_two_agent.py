"""Per-message orchestration overhead of a two-agent chat, parley vs its peers, in one run.

Each library runs ``two_agent_harness.py`` in its own virtual environment (the peers are not
parley's dependencies):

    python bench/bench_two_agent.py [--pyautogen-python /tmp/venv-pyautogen/bin/python]
                                    [--agentchat-python /tmp/venv-agentchat/bin/python]
                                    [--repeats 3] [--markdown]

Create the peer environments with:
    python -m venv /tmp/venv-pyautogen && /tmp/venv-pyautogen/bin/pip install pyautogen==0.2.35
    python -m venv /tmp/venv-agentchat && /tmp/venv-agentchat/bin/pip install autogen-agentchat==0.7.5 autogen-ext==0.7.5

Also measures ``import parley`` against ``import autogen``. Reports the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "two_agent_harness.py"
TURNS = (100, 1_000, 10_000)


RUN_LIMIT_S = 600  # a peer's run that takes longer is reported as not finished


def run_harness(python: str, lib: str, turns: int, chats: int) -> dict | None:
    """Best of ``chats`` chats, measured in one process after a warm-up chat."""
    try:
        out = subprocess.run([python, str(HARNESS), "--lib", lib, "--turns", str(turns), "--chats", str(chats)],
                             capture_output=True, text=True, timeout=RUN_LIMIT_S)
    except subprocess.TimeoutExpired:
        print(f"{lib} at {turns} turns did not finish within {RUN_LIMIT_S} s", file=sys.stderr)
        return None
    if out.returncode != 0:
        print(f"{lib} failed: {out.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def import_time(python: str, module: str, repeats: int) -> float | None:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    times = []
    for _ in range(repeats):
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            return None
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pyautogen-python", default="/tmp/venv-pyautogen/bin/python")
    parser.add_argument("--agentchat-python", default="/tmp/venv-agentchat/bin/python")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--agentchat-max-turns", type=int, default=1_000,
                        help="autogen-agentchat's cost grows with the history: its 10,000-turn chat took over 240 s here")
    args = parser.parse_args()
    libs = [("parley", sys.executable)]
    for lib, python in (("pyautogen", args.pyautogen_python), ("agentchat", args.agentchat_python)):
        if os.path.exists(python):
            libs.append((lib, python))
        else:
            print(f"skipping {lib}: no interpreter at {python}", file=sys.stderr)
    rows = {}
    for lib, python in libs:
        for turns in TURNS:
            if lib == "agentchat" and turns > args.agentchat_max_turns:
                rows[(lib, turns)] = None
                continue
            # The peers' 10,000-turn runs take minutes each (their cost grows with the history): once.
            repeats = args.repeats if lib == "parley" or turns < 10_000 else 1
            result = run_harness(python, lib, turns, repeats)
            rows[(lib, turns)] = result["us_per_message"] if result else None
    print("| turns | " + " | ".join(f"{lib} µs/msg" for lib, _ in libs) + " | " +
          " | ".join(f"{lib} / parley" for lib, _ in libs[1:]) + " |")
    print("|---" * (1 + 2 * len(libs) - 1) + "|")
    for turns in TURNS:
        ours = rows[("parley", turns)]
        cells = [f"{rows[(lib, turns)]:.1f}" if rows[(lib, turns)] else "not run" for lib, _ in libs]
        ratios = [f"{rows[(lib, turns)] / ours:.1f}×" if rows[(lib, turns)] and ours else "n/a" for lib, _ in libs[1:]]
        print(f"| {turns:,} | " + " | ".join(cells + ratios) + " |")
    print()
    ours = import_time(sys.executable, "parley", args.repeats)
    line = f"import parley: {ours * 1000:.0f} ms"
    if any(lib == "pyautogen" for lib, _ in libs):
        theirs = import_time(args.pyautogen_python, "autogen", args.repeats)
        if theirs:
            line += f"; import autogen (pyautogen 0.2.35): {theirs * 1000:.0f} ms"
    print(line)


if __name__ == "__main__":
    main()
