"""Classic module path ``autogen.agentchat.contrib.retrieve_assistant_agent`` (parley.retrieval.agents)."""

from ...retrieval.agents import RetrieveAssistantAgent

__all__ = ["RetrieveAssistantAgent"]
