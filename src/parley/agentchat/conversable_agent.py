"""Classic module path ``autogen.agentchat.conversable_agent``."""

from ..agents.conversable import ConversableAgent, register_function

__all__ = ["ConversableAgent", "register_function"]
