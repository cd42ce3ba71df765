"""Classic module path ``autogen.agentchat.agent``."""

from ..agents.agent import Agent, LLMAgent

__all__ = ["Agent", "LLMAgent"]
