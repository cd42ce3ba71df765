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
