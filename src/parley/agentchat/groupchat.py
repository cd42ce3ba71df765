"""Classic module path ``autogen.agentchat.groupchat``."""

from ..groupchat import GroupChat, GroupChatManager

__all__ = ["GroupChat", "GroupChatManager"]
