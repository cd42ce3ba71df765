"""A scripted two-agent chat run in a real subprocess, for the crash and resume tests.

    python chat_child.py run    STORE RUN_ID VARIANT   # start the run (may be killed mid-way)
    python chat_child.py resume STORE RUN_ID VARIANT [ANSWER...]

Replies are a function of the request (its length), so a run and its resumption produce the
same transcript as one uninterrupted run. Each model call sleeps a little so that a kill lands
mid-run. VARIANT: "free" (ends when b reaches its auto-reply limit), "turns" (max_turns),
"human" (the user is asked on every message; answers come from stdin / ANSWER arguments),
"group" (a round-robin group chat with introductions, the user among the participants, that
ends when the critic reaches its auto-reply limit), "group_human" (a round-robin group chat in
which the user, asked on each of its turns, answers from stdin / ANSWER arguments), "group_turns"
(a round-robin group chat started with max_turns, introducing the team each turn), "sequence"
(three sequential chats of a, b and c, each carrying the earlier ones' summaries), "code" (the
assistant writes code blocks that append a line to a file in $CHAT_CHILD_WORK_DIR and print how
many lines it has; the user runs them with LocalCommandLineCodeExecutor), "tools" (the same
through a tool the user executes), "group_code" (the "code" variant as a round-robin group chat
of the user and a coder). With $CHAT_CHILD_HANG_AFTER_EFFECT=n, the run stops dead (the
parent then kills it) right after its n-th code execution or tool call is recorded in the store.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import parley
from parley import ConversableAgent, GroupChat, GroupChatManager, ScriptedModelClient
from parley.io.console import console_sink
from parley.store import RunStore, resume

DELAY_S = 0.015  # runs last several of the recorder's batches (written at least every 0.5 s)


def reply_of(tag: str):
    def reply(request):
        time.sleep(DELAY_S)
        return f"{tag} reply to {len(request.messages)} messages"
    return reply


STEPS = 6  # code executions / tool calls of the "code" and "tools" variants


def coder_reply(request):
    """Step k (k = how many code results came back + 1: the request holds a system message, the
    first message, then a code message and its result a step) appends "step k" to log.txt."""
    time.sleep(DELAY_S)
    step = len(request.messages) // 2
    if step > STEPS:
        return "TERMINATE"
    return ("Appending the next line:\n```python\n"
            f"with open('log.txt', 'a') as f:\n    f.write('step {step}\\n')\n"
            "print('lines:', open('log.txt').read().count('\\n'))\n```")


def tool_caller_reply(request):
    time.sleep(DELAY_S)
    step = len(request.messages) // 2
    if step > STEPS:
        return "TERMINATE"
    return {"content": None, "tool_calls": [{"id": f"call_{step}", "type": "function",
                                             "function": {"name": "append_line", "arguments": f'{{"line": "step {step}"}}'}}]}


def work_dir() -> Path:
    return Path(os.environ.get("CHAT_CHILD_WORK_DIR") or tempfile.mkdtemp())


def effect_agents(variant: str) -> tuple[ConversableAgent, ConversableAgent]:
    """The "code" and "tools" variants: a user that runs what the assistant asks for."""
    from parley.code import LocalCommandLineCodeExecutor

    folder = work_dir()
    folder.mkdir(parents=True, exist_ok=True)
    reply = tool_caller_reply if variant == "tools" else coder_reply
    config = {"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply)}]}
    assistant = ConversableAgent("assistant", llm_config=config, human_input_mode="NEVER")
    if variant in ("code", "group_code"):
        user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=50,
                                code_execution_config={"executor": LocalCommandLineCodeExecutor(work_dir=folder)})
        if variant == "group_code":
            groupchat = GroupChat([user, assistant], max_round=2 * STEPS + 1, speaker_selection_method="round_robin")
            return user, GroupChatManager(groupchat, llm_config=False)
        return user, assistant
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=50)

    def append_line(line: str) -> str:
        with open(folder / "log.txt", "a") as f:
            f.write(line + "\n")
        return f"lines: {(folder / 'log.txt').read_text().count(chr(10))}"

    parley.register_function(append_line, caller=assistant, executor=user, description="Append a line to the log")
    return user, assistant


def hang_after_effect(n: int) -> None:
    """Stop dead once the n-th side effect is recorded (this sink runs after the store's, which has
    committed it), telling the parent through a file next to the work dir."""
    from parley import events

    seen = []

    def sink(event):
        seen.append(event)
        if len(seen) == n:
            (work_dir() / "recorded").touch()
            time.sleep(3600)

    events.default_stream.add_sink(sink, {events.SideEffectRecorded})


def agents(variant: str) -> tuple[ConversableAgent, ConversableAgent]:
    config = lambda tag: {"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply_of(tag))}]}  # noqa: E731
    if variant in ("code", "tools", "group_code"):
        return effect_agents(variant)
    if variant == "group":
        user = ConversableAgent("user", llm_config=config("U"), human_input_mode="NEVER")
        team = [user] + [ConversableAgent(name, llm_config=config(name[0].upper()), human_input_mode="NEVER")
                         for name in ("planner", "coder")]
        team.append(ConversableAgent("critic", llm_config=config("C"), human_input_mode="NEVER", max_consecutive_auto_reply=30))
        groupchat = GroupChat(team, max_round=200, speaker_selection_method="round_robin", send_introductions=True)
        return user, GroupChatManager(groupchat, llm_config=False)
    if variant == "group_turns":
        user = ConversableAgent("user", llm_config=config("U"), human_input_mode="NEVER")
        team = [user] + [ConversableAgent(name, llm_config=config(name[0].upper()), human_input_mode="NEVER")
                         for name in ("planner", "coder", "critic")]
        groupchat = GroupChat(team, max_round=6, speaker_selection_method="round_robin", send_introductions=True)
        return user, GroupChatManager(groupchat, llm_config=False)
    if variant == "group_human":
        user = ConversableAgent("user", llm_config=False, human_input_mode="ALWAYS")
        team = [user] + [ConversableAgent(name, llm_config=config(name[0].upper()), human_input_mode="NEVER")
                         for name in ("planner", "coder")]
        return user, GroupChatManager(GroupChat(team, max_round=12, speaker_selection_method="round_robin"), llm_config=False)
    if variant == "human":
        user = ConversableAgent("user", llm_config=False, human_input_mode="ALWAYS")
        assistant = ConversableAgent("assistant", llm_config=config("B"), human_input_mode="NEVER")
        return user, assistant
    a = ConversableAgent("a", llm_config=config("A"), human_input_mode="NEVER")
    b = ConversableAgent("b", llm_config=config("B"), human_input_mode="NEVER", max_consecutive_auto_reply=70)
    return a, b


def chat_queue(a: ConversableAgent, b: ConversableAgent) -> list[dict]:
    """The "sequence" variant's chats: a third agent joins a and b."""
    c = ConversableAgent("c", llm_config={"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply_of("C"))}]},
                         human_input_mode="NEVER")
    return [
        {"sender": a, "recipient": b, "message": "plan it", "max_turns": 20, "silent": True},
        {"sender": a, "recipient": c, "message": "build it", "max_turns": 20, "silent": True},
        {"sender": b, "recipient": c, "message": "review it", "max_turns": 20, "silent": True, "summary_method": "last_msg"},
    ]


def start(a: ConversableAgent, b: ConversableAgent, variant: str) -> list:
    if variant == "sequence":
        return parley.initiate_chats(chat_queue(a, b))
    if variant == "turns":
        return [a.initiate_chat(b, message="start", max_turns=60, silent=True)]
    if variant == "group_turns":
        return [a.initiate_chat(b, message="start", max_turns=20, silent=True)]
    return [a.initiate_chat(b, message="start", silent=True)]


def main() -> None:
    mode, store_url, run_id, variant, *answers = sys.argv[1:]
    console_sink.enabled = False
    a, b = agents(variant)
    if mode == "run":
        with RunStore(store_url) as store, store.new_run(run_id):
            if os.environ.get("CHAT_CHILD_HANG_AFTER_EFFECT"):
                hang_after_effect(int(os.environ["CHAT_CHILD_HANG_AFTER_EFFECT"]))
            start(a, b, variant)
    elif mode == "resume" and variant == "sequence":
        results = resume(run_id, store=store_url, chat_queue=chat_queue(a, b))
        print("\n".join(str(r.summary) for r in results))  # the parent compares them with an uninterrupted run's
    elif mode == "resume":
        with parley.io.set_default(parley.IOQueue(["exit"])) if answers else _nothing():
            resume(run_id, [a, b], store=store_url, human_input=answers or None, silent=True)
    else:
        raise SystemExit(f"unknown mode {mode!r}")


class _nothing:
    def __enter__(self): return self
    def __exit__(self, *exc): return None


if __name__ == "__main__":
    main()
