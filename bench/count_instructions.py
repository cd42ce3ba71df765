"""Deterministic per-message cost: CPU instructions counted by valgrind (callgrind).

Wall-clock numbers on a shared VM swing by 2x from run to run; instruction counts do not. Each
scenario runs twice under callgrind with a small and a large number of messages; the difference
divided by the extra messages is the engine's cost per message, start-up excluded.

    python bench/count_instructions.py            # needs valgrind (apt-get install valgrind)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

TWO_AGENT = """
import sys; sys.path.insert(0, {here!r})
import two_agent_harness as h, {module} as lib
h.run_classic(lib, {n})
"""
PYAUTOGEN = "/tmp/venv-pyautogen/bin/python"  # pyautogen==0.2.35 in its own venv, as in bench_two_agent.py
# The same two-agent chat with the run store attached: the chat's side only (the writer is kept
# waiting and the process leaves without the exit-time flush), as "chat returns" in bench_store.py.
STORE = """
import os, sys, tempfile; sys.path.insert(0, {here!r})
import two_agent_harness as h, parley
from parley.store import RunStore, recorder
recorder._FLUSH_INTERVAL_S = recorder._MAX_DELAY_S = 3600
{attach}
h.run_classic(parley, {n})
os._exit(0)
"""
GROUP = """
import sys; sys.path.insert(0, {here!r})
import bench_groupchat as b
b.run_parley({agents}, {n}, printed={printed})
"""


def instructions(code: str, python: str = sys.executable) -> int:
    # A fixed hash seed: with random ones, dict and set layouts move the count by a few percent.
    # The program's stdout goes to a file, as a classic script's redirected transcript does.
    with tempfile.TemporaryFile("w") as stdout:
        out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python, "-c", code],
                             stdout=stdout, stderr=subprocess.PIPE, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": "0"})
    return int(re.search(r"Collected : (\d+)", out.stderr).group(1))


def per_message(template: str, small: int, large: int, messages_per_unit: int, python: str = sys.executable, **kw) -> float:
    low = instructions(template.format(here=str(HERE), n=small, **kw), python)
    high = instructions(template.format(here=str(HERE), n=large, **kw), python)
    return (high - low) / ((large - small) * messages_per_unit)


def main() -> None:
    print("| scenario | instructions per message |")
    print("|---|---:|")
    print(f"| two-agent chat (classic custom client), parley | {per_message(TWO_AGENT, 10, 1010, 2, module='parley'):,.0f} |")
    if Path(PYAUTOGEN).exists():
        theirs = per_message(TWO_AGENT, 10, 1010, 2, PYAUTOGEN, module="autogen")
        print(f"| two-agent chat (classic custom client), pyautogen 0.2.35 | {theirs:,.0f} |")
    for agents in (5, 20):
        silent = per_message(GROUP, 100, 1100, 1, agents=agents, printed=False)
        print(f"| round-robin group chat, {agents} agents | {silent:,.0f} |")
    # A classic script's group chat: every message printed, stdout a file (bench_groupchat.py --printed).
    printed = per_message(GROUP, 100, 1100, 1, agents=5, printed=True)
    print(f"| round-robin group chat, 5 agents, every message printed to a file | {printed:,.0f} |")
    # The store is opened in both (the same modules and objects in memory), attached in one.
    off = per_message(STORE, 10, 2010, 2, attach="store = RunStore(tempfile.mkdtemp() + '/runs.db')")
    on = per_message(STORE, 10, 2010, 2, attach="store = RunStore(tempfile.mkdtemp() + '/runs.db').attach()")
    print(f"| two-agent chat, run store off / on (the chat's side) | {off:,.0f} / {on:,.0f} ({100 * (on / off - 1):+.1f} %) |")


if __name__ == "__main__":
    main()
