"""A remote agent's cost per reply: a two-agent chat of N turns with the replying agent local vs
in a Ray actor on this machine (parley.distributed.remote), its model a scripted one (no
network), so what is measured is the round trip: the history sent as message dicts, the reply and
the events it reported sent back. Reported: wall per reply, the caller's CPU per reply, the
overhead per reply; each at a short and a long history (the whole history travels each reply).

    python bench/bench_remote_agent.py [--turns 100] [--chats 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def responder():
    from parley import AssistantAgent, ScriptedModelClient

    def reply(request) -> str:
        return f"noted {len(request.messages)} messages"

    return AssistantAgent("responder", max_consecutive_auto_reply=10_000,
                          llm_config={"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply)}]})


def asker():
    from parley import ConversableAgent

    return ConversableAgent("asker", llm_config=False, human_input_mode="NEVER", default_auto_reply="go on",
                            max_consecutive_auto_reply=10_000)


def run(make_responder, turns: int, chats: int) -> tuple[float, float]:
    """Seconds of wall and of this process's CPU per responder reply."""
    wall = cpu = 0.0
    for _ in range(chats):
        agent = make_responder()
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        asker().initiate_chat(agent, message="start", max_turns=turns, silent=True)
        wall += time.perf_counter() - start_wall
        cpu += time.process_time() - start_cpu
        if hasattr(agent, "close"):
            agent.close()
    return wall / (turns * chats), cpu / (turns * chats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--chats", type=int, default=3)
    args = parser.parse_args()
    import ray

    from parley.distributed import remote

    ray.init(address="local", include_dashboard=False, num_cpus=2, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        remote(responder).close()  # warm: a worker process with parley imported
        for turns in (10, args.turns):
            local_wall, local_cpu = run(responder, turns, args.chats)
            remote_wall, remote_cpu = run(lambda: remote(responder), turns, args.chats)
            print(f"{turns:4d} turns: local {local_wall * 1e3:6.2f} ms/reply (CPU {local_cpu * 1e3:5.2f}); "
                  f"remote {remote_wall * 1e3:6.2f} ms/reply (caller CPU {remote_cpu * 1e3:5.2f}); "
                  f"overhead {(remote_wall - local_wall) * 1e3:6.2f} ms/reply")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
