from .agent import Agent, LLMAgent
from .assistant import AssistantAgent
from .conversable import ConversableAgent, register_function
from .user_proxy import UserProxyAgent

__all__ = ["Agent", "LLMAgent", "AssistantAgent", "ConversableAgent", "UserProxyAgent", "register_function"]
