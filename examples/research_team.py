"""The seed article's research assistant: a 7-agent group chat, with ``autogen`` changed to ``parley``.

Admin (you) approves a plan made by the Planner; the Engineer writes code that the Executor runs;
the Scientist categorises papers; the ResearchWriter writes the report and the Critic checks it.
A GroupChatManager picks who speaks next. With an ``OAI_CONFIG_LIST`` (env var or file) the agents
use gpt-4o-mini as in the article; without one they run offline on the embedded local model.

Run: ``python examples/research_team.py``; answer as Admin (Enter lets the chat go on, ``exit`` ends it).
"""

import os

from parley import config_list_from_json
from parley.demos import SEED_RESEARCH_MESSAGE, build_research_team


def default_llm_config():
    """The article's ``gpt4o_config`` when an OAI_CONFIG_LIST exists, else None (the embedded model)."""
    if os.environ.get("OAI_CONFIG_LIST") or os.path.exists("OAI_CONFIG_LIST"):
        config_list = config_list_from_json(env_or_file="OAI_CONFIG_LIST", filter_dict={"model": "gpt-4o-mini"})
        return {"cache_seed": 42, "temperature": 0, "config_list": config_list, "timeout": 120}
    return None


if __name__ == "__main__":
    user_proxy, manager = build_research_team(default_llm_config())
    output_report = user_proxy.initiate_chat(manager, message=SEED_RESEARCH_MESSAGE)
