"""Classic module path ``autogen.agentchat.chat``."""

from ..chat.result import ChatResult
from ..chat.sequential import initiate_chats

__all__ = ["ChatResult", "initiate_chats"]
