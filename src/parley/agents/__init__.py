"""The agents. Loaded on first use: the engine's lower layers (``chat``) import the ``Agent`` base
from ``agents.agent`` without pulling in the agents built on them."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .agent import Agent, LLMAgent

if TYPE_CHECKING:
    from ..tools.registration import register_function
    from .assistant import AssistantAgent
    from .conversable import ConversableAgent
    from .user_proxy import UserProxyAgent

__all__ = ["Agent", "LLMAgent", "AssistantAgent", "ConversableAgent", "UserProxyAgent", "register_function"]

_LAZY = {"AssistantAgent": ".assistant", "ConversableAgent": ".conversable", "register_function": "..tools.registration",
         "UserProxyAgent": ".user_proxy"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'parley.agents' has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)
