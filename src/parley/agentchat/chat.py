"""Classic module path ``autogen.agentchat.chat``."""

from ..chat.result import ChatResult
from ..chat.sequential import a_initiate_chats, initiate_chats

__all__ = ["ChatResult", "initiate_chats", "a_initiate_chats"]
