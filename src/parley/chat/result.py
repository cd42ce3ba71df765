"""``ChatResult``: what a finished chat returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChatResult:
    """The outcome of one chat (classic ``autogen.ChatResult``)."""

    chat_id: int | None = None
    """An id for the chat, unique in this process."""
    chat_history: list[dict] = field(default_factory=list)
    """The messages of the chat, as the initiating agent stored them."""
    summary: Any = None
    """The chat's summary, per ``summary_method``."""
    cost: dict = field(default_factory=dict)
    """``usage_including_cached_inference`` and ``usage_excluding_cached_inference`` of the agents."""
    human_input: list[str] = field(default_factory=list)
    """What the human typed during the chat."""
