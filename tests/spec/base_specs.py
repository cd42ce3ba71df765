"""Valid spec documents the tests change one thing in."""

from __future__ import annotations

import copy


def team_document() -> dict:
    """A group chat with transitions, a tool, a nested chat and a model reference."""
    return copy.deepcopy({
        "version": 1,
        "name": "base",
        "models": {"gpt": {"config_list": {"env_or_file": "OAI_CONFIG_LIST", "filter_dict": {"model": "gpt-4o-mini"}},
                           "temperature": 0}},
        "tools": {"calc": {"function": "parley.spec.tools:calculator", "caller": "Engineer", "executor": "Executor"}},
        "agents": {
            "Admin": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False},
            "Engineer": {"class": "AssistantAgent", "llm_config": "gpt", "max_consecutive_auto_reply": 3},
            "Executor": {"class": "UserProxyAgent", "human_input_mode": "NEVER",
                         "code_execution_config": {"work_dir": "work", "use_docker": False}},
            "Critic": {"class": "AssistantAgent", "llm_config": "gpt", "is_termination_msg": {"ends_with": "TERMINATE"},
                       "nested_chats": [{"trigger": "Engineer", "chat_queue": [{"recipient": "Reviewer", "max_turns": 1}]}]},
            "Reviewer": {"class": "AssistantAgent", "llm_config": "gpt"},
            "manager": {"class": "GroupChatManager", "llm_config": "gpt", "groupchat": "team"},
        },
        "group_chats": {"team": {
            "agents": ["Admin", "Engineer", "Executor", "Critic"],
            "max_round": 10,
            "allowed_or_disallowed_speaker_transitions": {"Admin": ["Engineer"], "Engineer": ["Executor", "Critic"],
                                                          "Executor": ["Engineer"], "Critic": ["Admin"]},
            "speaker_transitions_type": "allowed",
        }},
        "run": {"initiator": "Admin", "recipient": "manager", "message": "{task}", "task": "do it"},
    })


def sequential_document() -> dict:
    return copy.deepcopy({
        "version": 1,
        "agents": {"user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False},
                   "a": {"class": "AssistantAgent"}, "b": {"class": "AssistantAgent"}},
        "run": {"initiator": "user", "task": "t", "chats": [
            {"recipient": "a", "chat_id": 1, "message": "{task}", "max_turns": 1},
            {"recipient": "b", "chat_id": 2, "prerequisites": [1], "message": "next", "max_turns": 1}]},
    })
