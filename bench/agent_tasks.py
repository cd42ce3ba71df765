"""Agent task suite for local models: can a small model finish a coding task, correctly, and stop?

Each task is run as ``parley demo`` runs it: an ``AssistantAgent`` on a local model and a
``UserProxyAgent`` that executes its code in the real sandbox executor (``use_docker: False``),
in a fresh work folder that the task may fill first (a CSV, a buggy script...). A task is
*solved* when the output of a successful execution shows the right result: the check reads what
the executed code printed, never the model's words. *Terminated*: the chat ended on the
assistant's message ending with ``TERMINATE`` (not on the auto-reply limit, not on the
repetition guard). *Turns*: assistant messages. The two-step task is two chats
(``initiate_chats``): the second task needs the first chat's result, carried over.

Run (one model at a time; each task is short, the suite takes minutes on 2 cores)::

    python bench/agent_tasks.py --model smollm2-135m [--protocol on|off] [--guard on|off]
        [--tasks date,csv_sum] [--max-turns 4] [--out docs/bench/agent_tasks_<name>.md]

``--model`` is a packaged model's name (``parley.models.local_catalog``) or a GGUF path.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from parley import AssistantAgent, UserProxyAgent


@dataclass
class Task:
    name: str
    message: str | list[str]  # a list: one chat per step, each carried over into the next
    check: Callable[[str, Path], bool]  # (all successful outputs of the last step, work dir) -> solved
    files: dict[str, str] = field(default_factory=dict)  # written into the work dir first


def _has(*needles: str) -> Callable[[str, Path], bool]:
    return lambda out, _dir: all(n in out for n in needles)


def _number(value: str) -> Callable[[str, Path], bool]:
    # The number alone: not part of a longer one (a sentence's full stop after it is fine).
    pattern = re.compile(rf"(?<![\d.]){re.escape(value)}(?:\.0+)?(?!\d|\.\d)")
    return lambda out, _dir: bool(pattern.search(out))


def _today(out: str, _dir: Path) -> bool:
    today = datetime.date.today()
    return today.isoformat() in out or today.strftime("%B %d, %Y").replace(" 0", " ") in out.replace(" 0", " ")


def _note_written(out: str, work_dir: Path) -> bool:
    note = work_dir / "note.txt"
    return "hello from parley" in out and note.exists() and "hello from parley" in note.read_text()


def _primes(out: str, _dir: Path) -> bool:
    return "2,3,5,7,11,13,17,19,23,29" in re.sub(r"[\s\[\]]", "", out)


BUGGY_SCRIPT = """numbers = [3, 5, 7, 9]
total = 0
for n in numbers
    total += n
print("total:", total)
"""

TASKS = [
    Task("date", "What is today's date? Print it in YYYY-MM-DD format.", _today),
    Task("multiply", "Compute 1234 * 5678 and print the result.", _number("7006652")),
    Task("squares", "Print the sum of the squares of the integers from 1 to 20.", _number("2870")),
    Task("factorial", "Print the factorial of 12.", _number("479001600")),
    Task("reverse", "Print the string 'parley agents' reversed.", _has("stnega yelrap")),
    Task("sort_words", "Sort the words 'pear apple fig banana' alphabetically and print them separated by spaces.",
         _has("apple banana fig pear")),
    Task("weekday", "On which day of the week was 2024-07-04? Print the name of the weekday.", _has("Thursday")),
    Task("primes", "Print the prime numbers below 30, separated by commas.", _primes),
    Task("csv_sum", "The file sales.csv has the columns item and amount. Print the sum of the amount column.",
         _number("894"), files={"sales.csv": "item,amount\npen,137\nbook,256\nlamp,89\ndesk,412\n"}),
    Task("json_field", "Read the file config.json and print the value of its port field.",
         _number("8123"), files={"config.json": json.dumps({"name": "demo", "port": 8123, "debug": False})}),
    Task("write_read", "Write the text 'hello from parley' to a file named note.txt, then read the file back and "
         "print its contents.", _note_written),
    Task("fix_script", "This Python script has a bug. Fix it and run it:\n```python\n" + BUGGY_SCRIPT + "```",
         lambda out, _dir: "total: 24" in out.lower()),
    Task("two_step", ["Print the number of lines in the file data.txt.",
                      "The previous step found the number of lines in data.txt. Print that number multiplied by 6."],
         _number("42"), files={"data.txt": "".join(f"line {i}\n" for i in range(1, 8))}),
]


@dataclass
class Outcome:
    task: str
    solved: bool
    terminated: bool
    turns: int
    seconds: float
    end: str  # how the chat ended: terminate, limit, guard, error


def _llm_config(model: str, protocol: str | None) -> dict:
    entry: dict = {"api_type": "local"}
    if model.endswith(".gguf") or os.sep in model:
        entry["model"], entry["model_path"] = Path(model).stem, model
    else:
        entry["model"] = model
    config: dict = {"config_list": [entry], "temperature": 0, "cache_seed": None}
    if protocol is not None:
        config["reply_protocol"] = protocol == "on"
    return config


def run_task(task: Task, model: str, *, protocol: str | None, guard: bool, max_turns: int,
             show: bool = False) -> Outcome:
    from parley import events

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"bench-{task.name}-") as tmp:
        work_dir = Path(tmp)
        for name, text in task.files.items():
            (work_dir / name).write_text(text)
        assistant = AssistantAgent("assistant", llm_config=_llm_config(model, protocol))
        proxy_options = {"repetition_guard": True} if guard else {}
        user_proxy = UserProxyAgent(
            "user_proxy", human_input_mode="NEVER", max_consecutive_auto_reply=max_turns - 1,
            is_termination_msg=lambda m: (m.get("content") or "").rstrip().endswith("TERMINATE"),
            code_execution_config={"work_dir": str(work_dir), "use_docker": False}, **proxy_options,
        )
        steps = task.message if isinstance(task.message, list) else [task.message]
        turns, outputs, last = 0, "", {}
        with events.capture(kinds=(events.TerminationChecked,)) as captured:
            try:
                results = user_proxy.initiate_chats([
                    {"recipient": assistant, "message": step, "summary_method": "last_msg", "silent": True}
                    for step in steps
                ])
            except Exception as error:  # a model or executor failure is a failed task, with its reason
                return Outcome(task.name, False, False, turns, time.perf_counter() - started, f"error: {error}")
        for i, result in enumerate(results):
            history = result.chat_history
            if show:
                for m in history:
                    print(f"--- {m.get('name')}:\n{m.get('content')}", file=sys.stderr)
            turns += sum(1 for m in history if m.get("name") == "assistant")
            if i == len(results) - 1:
                outputs = "\n".join(m["content"].split("Code output:", 1)[1] for m in history
                                    if m.get("name") == "user_proxy" and (m.get("content") or "").startswith("exitcode: 0"))
                last = history[-1] if history else {}
        terminated = last.get("name") == "assistant" and (last.get("content") or "").rstrip().endswith("TERMINATE")
        reasons = [e.reason for e in captured.events]
        end = "terminate" if terminated else ("guard" if "repeated_code" in reasons else "limit")
        return Outcome(task.name, task.check(outputs, work_dir), terminated, turns, time.perf_counter() - started, end)


def summary(outcomes: list[Outcome]) -> str:
    n = len(outcomes)
    both = sum(1 for o in outcomes if o.solved and o.terminated)
    median, turns = statistics.median(o.seconds for o in outcomes), statistics.mean(o.turns for o in outcomes)
    return (f"solved {sum(o.solved for o in outcomes)}/{n}, terminated {sum(o.terminated for o in outcomes)}/{n}, "
            f"solved and terminated {both}/{n}, median {median:.1f} s, mean turns {turns:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--protocol", choices=["on", "off"], default=None, help="reply_protocol (default: the agent's)")
    parser.add_argument("--guard", choices=["on", "off"], default="off", help="UserProxyAgent repetition_guard")
    parser.add_argument("--tasks", default=None, help="comma-separated task names (default: all)")
    parser.add_argument("--max-turns", type=int, default=4, help="assistant turns per chat at most")
    parser.add_argument("--show", action="store_true", help="print each chat's transcript to stderr")
    parser.add_argument("--out", default=None, help="also write the table (markdown) here")
    args = parser.parse_args()
    chosen = TASKS if args.tasks is None else [t for t in TASKS if t.name in args.tasks.split(",")]
    outcomes = []
    for task in chosen:
        outcome = run_task(task, args.model, protocol=args.protocol, guard=args.guard == "on", max_turns=args.max_turns,
                           show=args.show)
        outcomes.append(outcome)
        print(f"{outcome.task:12} solved={outcome.solved!s:5} terminated={outcome.terminated!s:5} "
              f"turns={outcome.turns} {outcome.seconds:6.1f}s end={outcome.end}", flush=True)
    lines = [
        f"model {args.model}, protocol {args.protocol or 'default'}, guard {args.guard}, at most {args.max_turns} turns",
        "",
        "| task | solved | TERMINATE | turns | s | ended by |",
        "| --- | --- | --- | --- | --- | --- |",
        *(f"| {o.task} | {'yes' if o.solved else 'no'} | {'yes' if o.terminated else 'no'} | {o.turns} | "
          f"{o.seconds:.1f} | {o.end} |" for o in outcomes),
        "",
        summary(outcomes),
    ]
    print("\n".join(lines))
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
