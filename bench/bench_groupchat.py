"""Round-robin group chat overhead: parley vs pyautogen 0.2.35 vs autogen-agentchat 0.7.5.

A group of N agents (5 and 20) whose model answers instantly takes turns in round-robin order
until the chat holds M messages (1,000). Time per message is the engine's own cost: selecting
the speaker, asking it for a reply, storing the reply and showing it to the other N-1 agents.
Target for parley: <= 15 us per message, flat in N. Nothing is printed (console off / silent).

``--printed``: the same chat run as a classic script runs it: the manager and ``initiate_chat`` not
silent, so every message is printed (``agent1 (to chat_manager):``, the content, a rule), with
stdout redirected to a file (the harness's stdout is the transcript; its result goes to a separate
file). Target for parley: <= 20 us per message. autogen-agentchat prints through a different API
(``Console(team.run_stream())``) and is not run in this mode.

Instant models: parley's ScriptedModelClient; for pyautogen a classic custom model client
(``model_client_cls`` + ``register_model_client``); for autogen-agentchat its
``ReplayChatCompletionClient`` with a ``RoundRobinGroupChat`` and ``MaxMessageTermination``.

    python bench/bench_groupchat.py [--agents 5 20] [--messages 1000] [--repeats 3] [--markdown] [--printed]
                                    [--pyautogen-python /tmp/venv-pyautogen/bin/python]
                                    [--agentchat-python /tmp/venv-agentchat/bin/python]

Peer environments:
    python -m venv /tmp/venv-pyautogen && /tmp/venv-pyautogen/bin/pip install pyautogen==0.2.35
    python -m venv /tmp/venv-agentchat && /tmp/venv-agentchat/bin/pip install autogen-agentchat==0.7.5 autogen-ext==0.7.5

Each library runs this file with ``--harness LIB`` in its own interpreter and prints one JSON line
with the best of ``--repeats`` runs (after a warm-up run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = {"pyautogen": "/tmp/venv-pyautogen/bin/python", "agentchat": "/tmp/venv-agentchat/bin/python"}


def run_parley(agents: int, messages: int, printed: bool = False) -> float:
    from parley import ConversableAgent, GroupChat, GroupChatManager, ScriptedModelClient
    from parley.io.console import console_sink

    console_sink.enabled = printed  # the silent run prints nothing, like the peers' silent runs
    team = [
        ConversableAgent(f"agent{i}", llm_config={"config_list": [{"model": "instant", "client": ScriptedModelClient(["ok"])}]},
                         human_input_mode="NEVER", max_consecutive_auto_reply=10**9)
        for i in range(agents)
    ]
    groupchat = GroupChat(team, messages=[], max_round=messages, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False, silent=not printed)
    started = time.process_time()
    team[0].initiate_chat(manager, message="start", silent=not printed)
    elapsed = time.process_time() - started
    assert len(groupchat.messages) == messages, len(groupchat.messages)
    return elapsed


def run_pyautogen(agents: int, messages: int, printed: bool = False) -> float:
    from types import SimpleNamespace

    from autogen import ConversableAgent, GroupChat, GroupChatManager

    class InstantClient:
        def __init__(self, config, **kwargs):
            self.model = config["model"]

        def create(self, params):
            message = SimpleNamespace(content="ok", function_call=None, tool_calls=None)
            return SimpleNamespace(choices=[SimpleNamespace(message=message)], model=self.model)

        def message_retrieval(self, response):
            return [choice.message.content for choice in response.choices]

        def cost(self, response):
            return 0.0

        @staticmethod
        def get_usage(response):
            return {}

    team = []
    for i in range(agents):
        member = ConversableAgent(
            f"agent{i}",
            llm_config={"config_list": [{"model": "instant", "model_client_cls": "InstantClient"}], "cache_seed": None},
            human_input_mode="NEVER", max_consecutive_auto_reply=10**9,
        )
        member.register_model_client(model_client_cls=InstantClient)
        team.append(member)
    groupchat = GroupChat(team, messages=[], max_round=messages, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False, silent=not printed)
    started = time.process_time()
    team[0].initiate_chat(manager, message="start", silent=not printed)
    elapsed = time.process_time() - started
    assert len(groupchat.messages) == messages, len(groupchat.messages)
    return elapsed


def run_agentchat(agents: int, messages: int, printed: bool = False) -> float:
    assert not printed, "agentchat is not run in the printed mode"
    from autogen_agentchat.agents import AssistantAgent
    from autogen_agentchat.conditions import MaxMessageTermination
    from autogen_agentchat.teams import RoundRobinGroupChat
    from autogen_ext.models.replay import ReplayChatCompletionClient

    team = [
        AssistantAgent(f"agent{i}", model_client=ReplayChatCompletionClient(["ok"] * (messages // agents + 2)))
        for i in range(agents)
    ]
    chat = RoundRobinGroupChat(team, termination_condition=MaxMessageTermination(messages))

    async def go():
        started = time.process_time()
        result = await chat.run(task="start")
        elapsed = time.process_time() - started
        assert len(result.messages) == messages, len(result.messages)
        return elapsed

    return asyncio.run(go())


RUNNERS = {"parley": run_parley, "pyautogen": run_pyautogen, "agentchat": run_agentchat}


def harness(lib: str, agents: int, messages: int, repeats: int, printed: bool, result: str | None) -> None:
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    runner = RUNNERS[lib]
    runner(agents, min(messages, 50), printed)  # warm-up: imports, first-call caches
    best = min(runner(agents, messages, printed) for _ in range(repeats))
    line = json.dumps({"lib": lib, "agents": agents, "messages": messages, "us_per_message": best / messages * 1e6})
    if result:  # printed mode: stdout is the transcript
        Path(result).write_text(line + "\n")
    else:
        print(line)


def measure(python: str, lib: str, agents: int, messages: int, repeats: int, printed: bool = False) -> float | None:
    command = [python, __file__, "--harness", lib, "--agents", str(agents), "--messages", str(messages),
               "--repeats", str(repeats)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        if printed:
            # The transcript goes to a file, as `python script.py > out.txt` does.
            with open(Path(tmp) / "transcript.txt", "w") as transcript:
                out = subprocess.run([*command, "--printed", "--result", str(result)], stdout=transcript,
                                     stderr=subprocess.PIPE, text=True, timeout=900, cwd=HERE.parent, env=env)
            rules = (Path(tmp) / "transcript.txt").read_text().count("\n" + "-" * 80 + "\n")
            # warm-up + repeats chats, each message printed once
            expected = min(messages, 50) + repeats * messages
            if out.returncode == 0 and rules < expected:
                print(f"{lib} printed {rules} messages, expected {expected}", file=sys.stderr)
                return None
        else:
            out = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=HERE.parent, env=env)
        if out.returncode != 0:
            print(f"{lib} with {agents} agents failed:\n{out.stderr[-2000:]}", file=sys.stderr)
            return None
        text = result.read_text() if printed else out.stdout
    return json.loads(text.strip().splitlines()[-1])["us_per_message"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--harness", choices=sorted(RUNNERS))
    parser.add_argument("--agents", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pyautogen-python", default=PEERS["pyautogen"])
    parser.add_argument("--agentchat-python", default=PEERS["agentchat"])
    parser.add_argument("--markdown", action="store_true", help="print the result as a markdown section")
    parser.add_argument("--printed", action="store_true", help="every message printed, stdout redirected to a file")
    parser.add_argument("--result", help=argparse.SUPPRESS)  # the harness's result file in printed mode
    args = parser.parse_args()
    if args.harness:
        harness(args.harness, args.agents[0], args.messages, args.repeats, args.printed, args.result)
        return
    pythons = {"parley": sys.executable, "pyautogen": args.pyautogen_python, "agentchat": args.agentchat_python}
    if args.printed:
        del pythons["agentchat"]
    results: dict[tuple[str, int], float | None] = {}
    for agents in args.agents:
        for lib, python in pythons.items():
            if lib != "parley" and not Path(python).exists():
                print(f"skipping {lib}: {python} not found (see the module docstring)", file=sys.stderr)
                results[(lib, agents)] = None
                continue
            results[(lib, agents)] = measure(python, lib, agents, args.messages, args.repeats, args.printed)

    def cell(lib: str, agents: int) -> str:
        value = results.get((lib, agents))  # agentchat is not run in the printed mode
        if value is None:
            return "n/a"
        if lib == "parley":
            return f"{value:.1f}"
        mine = results[("parley", agents)]
        return f"{value:.1f} ({value / mine:.0f}x)" if mine else f"{value:.1f}"

    header = "| agents | parley µs/msg | pyautogen 0.2.35 µs/msg (× parley) | autogen-agentchat 0.7.5 µs/msg (× parley) |"
    lines = [header, "|---:|---:|---:|---:|"]
    for agents in args.agents:
        lines.append(f"| {agents} | {cell('parley', agents)} | {cell('pyautogen', agents)} | {cell('agentchat', agents)} |")
    table = "\n".join(lines)
    if args.markdown:
        mode, flag = (", every message printed to a file", " --printed") if args.printed else ("", "")
        print(f"## Group chat: round-robin overhead per message{mode}\n")
        print(f"{args.messages:,} messages, instant models, best of {args.repeats} runs after a warm-up, "
              f"Python {sys.version.split()[0]}, `python bench/bench_groupchat.py --markdown{flag}`.\n")
    print(table)


if __name__ == "__main__":
    main()
