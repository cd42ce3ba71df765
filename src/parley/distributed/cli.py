"""``parley run SPEC --tasks tasks.jsonl [--ray [ADDRESS]] --out results.jsonl``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any


def read_tasks(path: str) -> list:
    """The tasks of a JSONL file: each line a JSON string (a message) or object (template variables)."""
    tasks = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                task = json.loads(line)
            except ValueError as error:
                raise ValueError(f"{path}, line {number}: not JSON ({error})") from None
            if not isinstance(task, (str, dict)):
                raise ValueError(f"{path}, line {number}: a task is a JSON string (the message) or an object "
                                 f"(template variables), got {type(task).__name__}")
            tasks.append(task)
    return tasks


def run_tasks(team: Any, store: Any, args: argparse.Namespace, fail: Callable[[str, Exception], int]) -> int:
    from ..spec import SpecError
    from ..store import StoreError
    from .fan_out import run_many

    if args.tasks is None:
        return fail("run", ValueError("--out goes with --tasks FILE"))
    if args.message is not None or args.run_id is not None:
        return fail("run", ValueError("--message and --run-id are for one run; with --tasks each line is a task"))
    try:
        tasks = read_tasks(args.tasks)
        outcomes = run_many(team, tasks, address=args.ray, store=store, max_concurrency=args.max_concurrency,
                            allow_modules=args.allow_module, allow_env=args.allow_env, allow_work_dirs=args.allow_work_dir,
                            model="scripted" if args.model == "scripted" else None)
    except (SpecError, StoreError, ValueError, OSError, ImportError) as error:
        return fail("run", error)
    lines = [json.dumps(outcome.to_dict(), ensure_ascii=False, default=str) for outcome in outcomes]
    if args.out is None:
        print("\n".join(lines))
    else:
        with open(args.out, "w", encoding="utf-8") as file:
            file.write("".join(line + "\n" for line in lines))
    finished = sum(outcome.status == "finished" for outcome in outcomes)
    print(f"parley run: {finished} of {len(outcomes)} chats finished"
          + (f"; results in {args.out}" if args.out else ""), file=sys.stderr)
    return 0 if finished == len(outcomes) else 1


def join_ray_for_placement(team: Any, address: str, fail: Callable[[str, Exception], int]) -> int:
    """``parley run SPEC --ray [ADDRESS]`` without --tasks: the Ray the placed agents join
    (without --ray they join Ray's default: a cluster running on this machine, or a new one).
    Returns an exit status to stop with, or 0 to go on."""
    placed = [name for name, agent in team.spec.agents.items() if agent.placement is not None]
    if not placed:
        return fail("run", ValueError("--ray without --tasks is for a spec with placed agents (placement:); "
                                      "this one has none: give --tasks FILE to run many chats on Ray"))
    try:
        from .remote_agents import join_ray

        join_ray(address)
    except (ImportError, ConnectionError, RuntimeError, ValueError) as error:
        return fail("run", error)
    return 0
