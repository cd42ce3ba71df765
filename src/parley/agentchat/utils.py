"""Classic ``autogen.agentchat.utils``: usage summaries, chat-queue checks and ``<tag ...>`` parsing."""

from __future__ import annotations

from typing import Any

from ..chat.sequential import validate_chat_queue
from ..chat.summary import validate_summary_method
from ..messages import parse_tags_from_content
from ..usage import gather_usage_summary


def consolidate_chat_info(chat_info: dict | list[dict], uniform_sender: Any = None) -> None:
    """Check a chat (or chat queue) entry as ``initiate_chats`` does, giving each the ``uniform_sender``
    when it has none."""
    chats = [chat_info] if isinstance(chat_info, dict) else chat_info
    for chat in chats:
        if uniform_sender is not None and isinstance(chat, dict):
            chat.setdefault("sender", uniform_sender)
    validate_chat_queue(list(chats))
    for chat in chats:
        validate_summary_method(chat.get("summary_method", "last_msg"))


__all__ = ["consolidate_chat_info", "gather_usage_summary", "parse_tags_from_content"]
