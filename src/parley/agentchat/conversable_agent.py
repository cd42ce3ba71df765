"""Classic module path ``autogen.agentchat.conversable_agent``."""

from ..agents.conversable import ConversableAgent
from ..tools.registration import register_function

__all__ = ["ConversableAgent", "register_function"]
