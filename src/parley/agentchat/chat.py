"""Classic module path ``autogen.agentchat.chat``."""

from ..agents.conversable import carryover_text
from ..chat.result import ChatResult
from ..chat.sequential import a_initiate_chats, initiate_chats

_post_process_carryover_item = carryover_text  # classic private name, imported by classic tests and recipes

__all__ = ["ChatResult", "a_initiate_chats", "initiate_chats"]
