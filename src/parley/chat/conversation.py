"""One chat: what belongs to it, not to the agents in it.

Agents are definitions plus what classic AutoGen keeps per peer (histories, auto-reply
counters, ``reply_at_receive``). What differs between two chats that run at the same time —
their id, cache, silent flag, IO stream, the human input typed in them, how many turns they
ran — lives here. One agent can then serve many concurrent chats (``a_initiate_chats``, a
Studio session) and each chat's model look-ups, prompts, printed lines and events are its own.

The conversation is the chat's bracket, shared by ``initiate_chat`` and resuming a stored run.
Entering announces the chat (``ChatStarted``) and makes it current for the task running it
(``current``, and ``events.current_chat_id``, which sinks read); code deep in the engine (a
model call's cache, a human-input request) finds its chat there. Context variables are what
make this per chat: each asyncio task runs in a copy of its creator's context, so concurrent
chats never see each other's. Leaving reports a chat that ended by an exception
(``ChatFinished`` with "interrupted" or "error"); ``finish`` reports a normal end and makes the
``ChatResult``.
"""

from __future__ import annotations

import asyncio
import contextvars
from contextlib import AbstractContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .. import events, io
from .result import ChatResult

if TYPE_CHECKING:
    from ..cache import CacheBackend
    from .participant import Participant


class Conversation:
    """One chat between ``initiator`` and ``recipient`` (a group chat: its manager)."""

    __slots__ = (
        "_io",
        "_stream",
        "_tokens",
        "cache",
        "chat_id",
        "human_input",
        "initiator",
        "iostream",
        "max_turns",
        "message",
        "recipient",
        "silent",
        "stream",
        "turns",
    )

    def __init__(
        self,
        chat_id: int,
        initiator: Participant,
        recipient: Participant,
        *,
        cache: CacheBackend | None = None,
        silent: bool = False,
        message: object = None,
        max_turns: int | None = None,
        iostream: io.IOStream | None = None,
        stream: events.EventStream | None = None,
    ) -> None:
        self.chat_id = chat_id
        self.initiator = initiator
        self.recipient = recipient
        self.cache = cache
        """The cache the chat's model calls look up (None: none; the agents' ``client_cache`` is not used)."""
        self.silent = silent
        self.message = message
        """The opening message as given (None when it was a callable)."""
        self.max_turns = max_turns
        self.iostream = iostream if iostream is not None else io.get_default()
        """Where the chat asks for human input and prints: the stream current when it started."""
        self.stream = stream if stream is not None else events.current_stream()
        """The event stream the chat emits to: the run's (``events.use_stream``) when it started."""
        self.human_input: list[str] = []
        """What the human typed for the initiator in this chat (``ChatResult.human_input``)."""
        self.turns = 0
        """Turns started so far (a ``max_turns`` chat: each starts with a message of the initiator)."""
        self._tokens: tuple[contextvars.Token, ...] = ()
        self._io: AbstractContextManager[io.IOStream] | None = None
        self._stream: AbstractContextManager[events.EventStream] | None = None

    def __enter__(self) -> Self:
        global caches_open
        if self.cache is not None:
            caches_open += 1
        self._stream = events.use_stream(self.stream)
        self._stream.__enter__()
        self.stream.emit(events.ChatStarted(
            chat_id=self.chat_id, sender=self.initiator.name, recipient=self.recipient.name,
            message=self.message, max_turns=self.max_turns,
        ))
        self._tokens = (events.current_chat_id.set(self.chat_id), current.set(self))
        self._io = io.set_default(self.iostream)
        self._io.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None) -> None:
        global caches_open
        if self.cache is not None:
            caches_open -= 1
        if error is not None:
            reason = "interrupted" if isinstance(error, (KeyboardInterrupt, asyncio.CancelledError)) else "error"
            self.stream.emit(events.ChatFinished(chat_id=self.chat_id, sender=self.initiator.name,
                                                 recipient=self.recipient.name, reason=reason))
        chat_token, conversation_token = self._tokens
        if self._io is not None:
            self._io.__exit__(None, None, None)
        current.reset(conversation_token)
        events.current_chat_id.reset(chat_token)
        if self._stream is not None:
            self._stream.__exit__(None, None, None)

    def finish(self, reason: str, summary: Any) -> ChatResult:
        """Report the chat's normal end (after the conversation is left) and return its result."""
        from ..usage import gather_usage_summary

        initiator, recipient = self.initiator, self.recipient
        self.stream.emit(events.ChatFinished(
            chat_id=self.chat_id, sender=initiator.name, recipient=recipient.name, reason=reason,
            summary=summary if isinstance(summary, str) else None,
        ))
        return ChatResult(
            chat_id=self.chat_id,
            chat_history=list(initiator.chat_messages[recipient]),
            summary=summary,
            cost=gather_usage_summary([initiator, recipient]),
            human_input=list(self.human_input),
        )


# How many conversations with a cache are open in the process: while none is, a model call needs no
# look-up of its conversation to know it has no cache (the hot path of a chat without one).
caches_open = 0

# The conversation the current task is in (None outside any chat).
current: contextvars.ContextVar[Conversation | None] = contextvars.ContextVar("parley_conversation", default=None)
