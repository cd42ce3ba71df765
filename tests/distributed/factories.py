"""A team factory for run_many("module:function") tests (importable by Ray workers too)."""

from __future__ import annotations

import json
import os


def two_agents():
    from parley import AssistantAgent, UserProxyAgent

    config_list = json.loads(open(os.environ["OAI_CONFIG_LIST"]).read())
    assistant = AssistantAgent("assistant", llm_config={"config_list": config_list, "temperature": 0})
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, default_auto_reply="go on")
    return user, assistant, {"message": "Ask: {task}", "max_turns": 2}


def scripted_member(name: str, description: str, marker: str | None = None, delay: float = 0.0,
                    fail_at: int | None = None):
    """An assistant whose scripted model answers from the request alone (the same answer in any
    process, before and after a restart). ``marker``: a file each reply appends its process id to
    before it waits ``delay`` seconds (a test kills that process mid-reply). ``fail_at``: its
    model fails on that call (1: the first), and only that one."""
    import time

    from parley import AssistantAgent, ScriptedModelClient

    calls = [0]

    def reply(request) -> str:
        calls[0] += 1
        if calls[0] == fail_at:
            raise RuntimeError("model down")
        if marker is not None:
            with open(marker, "a", encoding="utf-8") as file:
                file.write(f"{os.getpid()}\n")
        if delay:
            time.sleep(delay)
        last = request.messages[-1]
        if "say who you are" in str(last.get("content")):
            return request.messages[0]["content"]  # the system message it was given
        return f"{name} on {last.get('name', last['role'])}'s word ({len(request.messages)} messages)"

    return AssistantAgent(name, system_message=f"You are {name}.", description=description,
                          llm_config={"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply)}]})


def code_runner(work_dir: str):
    """A user proxy that runs the code it is sent in the bubblewrap sandbox."""
    from parley import UserProxyAgent

    return UserProxyAgent("runner", human_input_mode="NEVER", default_auto_reply="",
                          code_execution_config={"executor": "sandbox", "work_dir": work_dir})


def asks_a_human():
    from parley import UserProxyAgent

    return UserProxyAgent("human", code_execution_config=False)


def fails_to_build():
    raise RuntimeError("no such warehouse")


def openai_assistant():
    """The assistant of ``two_agents`` alone (its model: the fake OpenAI server of the tests)."""
    return two_agents()[1]
