"""One chat with a teachable agent, in its own process: ``teach_child.py BASE_URL DB_DIR MESSAGE``."""

import sys

from parley import ConversableAgent, UserProxyAgent
from parley.agentchat.contrib.capabilities.teachability import Teachability

base_url, db_dir, message = sys.argv[1:4]
llm_config = {"config_list": [{"model": "gpt-4", "api_key": "sk-fake", "base_url": base_url}]}
agent = ConversableAgent("teachable", llm_config=llm_config, human_input_mode="NEVER")
Teachability(path_to_db_dir=db_dir, llm_config=llm_config).add_to_agent(agent)
user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
user.initiate_chat(agent, message=message, max_turns=1, silent=True)
