"""Classic module path ``autogen.agentchat``: the agents, chats and group chats."""

from __future__ import annotations

from typing import Any

_NAMES = ("Agent", "LLMAgent", "ConversableAgent", "AssistantAgent", "UserProxyAgent", "GroupChat", "GroupChatManager",
          "register_function", "initiate_chats", "ChatResult")
__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        import parley

        return getattr(parley, name)
    raise AttributeError(f"module 'parley.agentchat' has no attribute {name!r}")
