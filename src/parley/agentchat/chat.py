"""Classic module path ``autogen.agentchat.chat``."""

from ..chat.result import ChatResult
from ..agents.conversable import carryover_text
from ..chat.sequential import a_initiate_chats, initiate_chats

_post_process_carryover_item = carryover_text  # classic private name, imported by classic tests and recipes

__all__ = ["ChatResult", "initiate_chats", "a_initiate_chats"]
