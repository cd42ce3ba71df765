"""One chat's bracket, shared by ``initiate_chat`` and resuming a stored run.

Entering announces the chat (``ChatStarted``), makes it the current chat (``current_chat_id``,
which nested chats and sinks read) and lends ``cache`` to both agents; leaving undoes that, and
reports a chat that ended by an exception (``ChatFinished`` with "interrupted" or "error").
``finish`` reports a chat that ended normally and makes its ``ChatResult``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import events
from .result import ChatResult


class ChatScope:
    __slots__ = ("chat_id", "initiator", "recipient", "cache", "message", "max_turns", "_token")

    def __init__(self, chat_id: int, initiator: Any, recipient: Any, cache: Any = None,
                 message: Any = None, max_turns: int | None = None) -> None:
        self.chat_id = chat_id
        self.initiator = initiator
        self.recipient = recipient
        self.cache = cache
        self.message = message
        self.max_turns = max_turns
        self._token: Any = None

    def __enter__(self) -> "ChatScope":
        for agent in (self.initiator, self.recipient):
            agent.previous_cache, agent.client_cache = agent.client_cache, self.cache
        events.emit(events.ChatStarted(
            chat_id=self.chat_id, sender=self.initiator.name, recipient=self.recipient.name,
            message=self.message, max_turns=self.max_turns,
        ))
        self._token = events.current_chat_id.set(self.chat_id)
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, traceback: Any) -> None:
        if error is not None:
            reason = "interrupted" if isinstance(error, (KeyboardInterrupt, asyncio.CancelledError)) else "error"
            events.emit(events.ChatFinished(chat_id=self.chat_id, sender=self.initiator.name, recipient=self.recipient.name,
                                            reason=reason))
        events.current_chat_id.reset(self._token)
        for agent in (self.initiator, self.recipient):
            agent.client_cache, agent.previous_cache = agent.previous_cache, None

    def finish(self, reason: str, summary: Any) -> ChatResult:
        """Report the chat's normal end (after the scope is left) and return its result."""
        from ..usage import gather_usage_summary

        initiator, recipient = self.initiator, self.recipient
        events.emit(events.ChatFinished(
            chat_id=self.chat_id, sender=initiator.name, recipient=recipient.name, reason=reason,
            summary=summary if isinstance(summary, str) else None,
        ))
        return ChatResult(
            chat_id=self.chat_id,
            chat_history=list(initiator._oai_messages[recipient]),
            summary=summary,
            cost=gather_usage_summary([initiator, recipient]),
            human_input=list(initiator._human_input),
        )
