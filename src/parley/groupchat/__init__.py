"""Group chats: several agents, one shared conversation, a manager that picks who speaks next."""

from .groupchat import GroupChat
from .manager import GroupChatManager

__all__ = ["GroupChat", "GroupChatManager"]
