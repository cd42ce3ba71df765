"""One library's side of the two-agent overhead benchmark; run inside that library's venv.

    python two_agent_harness.py --lib parley|pyautogen|agentchat --turns N

Two agents talk for N round trips through an instant in-process model client (the classic
custom-client protocol for parley and pyautogen; a replay client for autogen-agentchat).
Prints one JSON line: messages, seconds, microseconds per message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import types


class InstantClient:
    """Classic custom model client that answers at once."""

    def __init__(self, config, **kwargs):
        self.model = config["model"]
        self._response = types.SimpleNamespace(
            choices=[types.SimpleNamespace(message=types.SimpleNamespace(content="ok", tool_calls=None, function_call=None))],
            model=self.model,
        )

    def create(self, params):
        return self._response

    def message_retrieval(self, response):
        return ["ok"]

    def cost(self, response):
        return 0.0

    @staticmethod
    def get_usage(response):
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cost": 0.0, "model": response.model}


def run_classic(module, turns: int, chats: int = 1) -> tuple[int, float]:
    """Best time of ``chats`` chats of ``turns`` round trips (after a warm-up chat)."""
    config = {"config_list": [{"model": "instant", "model_client_cls": "InstantClient"}], "cache_seed": None}
    agents = []
    for name in ("alice", "bob"):
        agent = module.ConversableAgent(
            name, llm_config=config, human_input_mode="NEVER", max_consecutive_auto_reply=10 * turns + 10
        )
        agent.register_model_client(model_client_cls=InstantClient)
        agents.append(agent)
    alice, bob = agents
    alice.initiate_chat(bob, message="warm-up", max_turns=10, silent=True)  # first-use costs off the clock
    best = float("inf")
    for _ in range(chats):
        started = time.perf_counter()
        result = alice.initiate_chat(bob, message="hello", max_turns=turns, silent=True)
        best = min(best, time.perf_counter() - started)
    return len(result.chat_history), best


def run_agentchat(turns: int, chats: int = 1) -> tuple[int, float]:
    from autogen_agentchat.agents import AssistantAgent
    from autogen_agentchat.conditions import MaxMessageTermination
    from autogen_agentchat.teams import RoundRobinGroupChat
    from autogen_ext.models.replay import ReplayChatCompletionClient

    messages = 2 * turns

    async def main() -> tuple[int, float]:
        agents = [
            AssistantAgent(name, model_client=ReplayChatCompletionClient(["ok"] * (messages * chats + 40)))
            for name in ("alice", "bob")
        ]
        warm_up = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(20))
        await warm_up.run(task="warm-up")  # first-use costs off the clock
        best = float("inf")
        for _ in range(chats):
            team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(messages))
            started = time.perf_counter()
            result = await team.run(task="hello")
            best = min(best, time.perf_counter() - started)
        return len(result.messages), best

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lib", required=True, choices=["parley", "pyautogen", "agentchat"])
    parser.add_argument("--turns", type=int, required=True)
    parser.add_argument("--chats", type=int, default=1, help="measure this many chats in the process, report the best")
    args = parser.parse_args()
    if args.lib == "parley":
        import parley

        messages, seconds = run_classic(parley, args.turns, args.chats)
    elif args.lib == "pyautogen":
        import logging

        logging.disable(logging.WARNING)
        import autogen

        messages, seconds = run_classic(autogen, args.turns, args.chats)
    else:
        messages, seconds = run_agentchat(args.turns, args.chats)
    print(json.dumps({"lib": args.lib, "turns": args.turns, "messages": messages, "seconds": seconds,
                      "us_per_message": seconds / messages * 1e6}))


if __name__ == "__main__":
    main()
