"""Classic module path ``autogen.agentchat``: the agents, chats and group chats."""

from __future__ import annotations

from typing import Any

_NAMES = ("Agent", "LLMAgent", "ConversableAgent", "AssistantAgent", "UserProxyAgent", "GroupChat", "GroupChatManager",
          "register_function", "initiate_chats", "ChatResult")
_SUBMODULES = ("utils", "contrib", "agent", "assistant_agent", "chat", "conversable_agent", "groupchat", "user_proxy_agent")
__all__ = list(_NAMES)


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        import parley

        return getattr(parley, name)
    if name in _SUBMODULES:  # classic code reaches submodules as attributes: agentchat.utils.parse_tags_from_content
        from importlib import import_module

        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'parley.agentchat' has no attribute {name!r}")
