"""Classic ``autogen.agentchat.utils``: usage summaries, chat-queue checks and ``<tag ...>`` parsing."""

from __future__ import annotations

import re
from typing import Any

from ..chat.sequential import validate_chat_queue
from ..chat.summary import validate_summary_method
from ..messages import content_str
from ..usage import gather_usage_summary

_KEY = re.compile(r"(?:^|(?<=\s))(\w+)=")


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


def _parse_attributes(text: str) -> dict[str, str]:
    """``http://x.png width='100'`` -> ``{"src": "http://x.png", "width": "100"}``: a leading bare value
    is the ``src``; each ``key=`` starts an attribute whose value runs to the next ``key=``."""
    attrs: dict[str, str] = {}
    keys = list(_KEY.finditer(text))
    head = text[: keys[0].start()] if keys else text
    if head.strip():
        attrs["src"] = head.strip()
    for i, key in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(text)
        value = text[key.end(): end].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        attrs[key.group(1)] = value
    return attrs


def parse_tags_from_content(tag: str, content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``<tag ...>`` elements in a message's content: ``[{"tag", "attr": {...}, "match"}]``, in order.

    ``<img http://x.png>`` gives ``attr={"src": "http://x.png"}``; ``<audio text='Hi' prompt='whisper'>``
    gives both attributes. Multimodal content is searched in its text parts.
    """
    text = content if isinstance(content, str) else content_str(content)
    pattern = re.compile(rf"<{re.escape(tag)}\s+([^>]*)>")
    return [{"tag": tag, "attr": _parse_attributes(match.group(1)), "match": match} for match in pattern.finditer(text)]


__all__ = ["consolidate_chat_info", "gather_usage_summary", "parse_tags_from_content"]
