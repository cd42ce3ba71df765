"""Classic module path ``autogen.agentchat.contrib.retrieve_user_proxy_agent`` (parley.retrieval.agents)."""

from ...retrieval.agents import PROMPT_CODE, PROMPT_DEFAULT, PROMPT_QA, UPDATE_CONTEXT_IN_PROMPT, RetrieveUserProxyAgent

__all__ = ["PROMPT_CODE", "PROMPT_DEFAULT", "PROMPT_QA", "UPDATE_CONTEXT_IN_PROMPT", "RetrieveUserProxyAgent"]
