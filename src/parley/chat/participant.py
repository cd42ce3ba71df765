"""What the conversation loop needs of an agent: ``Participant``.

The loop (``chat.loop``), the group chat and resuming a stored run (``chat.resume``) talk to
agents through these methods, never through an agent's private attributes. A reply travels with
the name of the reply function that produced it (``Reply``), from the agent that made it to the
message event that records it (``MessageSent.produced_by``): nothing is left on the agent for the
other side to read back.

A base class rather than a ``typing.Protocol``: its methods take the other side as the classic
``Agent``, and an agent of the classic ``Agent`` protocol (``receive`` only, not a
``Participant``) can still be a chat's recipient: the loop delivers to it and stops there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping

from ..agents.agent import Agent

Message = str | dict
"""A message as agents send it: its text, or an OpenAI-style dict."""

Reply = tuple[Message | None, str | None]
"""An agent's reply (None: it declines) and the name of the reply function that produced it."""


class Participant(Agent):
    """An agent the loop can ask for replies and deliver messages for."""

    reply_at_receive: MutableMapping[Agent, bool]
    """Per peer: whether a message from it asks for a reply when the sender did not say."""
    a_send_hooks: list[Callable[..., object]]
    """The async before-send hooks (classic ``a_process_message_before_send``); empty: nothing to await."""

    async def a_reply_with_origin(
        self, messages: list[dict] | None = None, sender: Agent | None = None, exclude: Iterable[Callable[..., object]] = (),
    ) -> Reply:
        """The reply to ``messages`` (default: the history with ``sender``) and what produced it."""
        raise NotImplementedError

    async def a_apply_send_hooks(self, message: Message, recipient: Agent, silent: bool) -> Message:
        """``message`` as the async before-send hooks leave it."""
        raise NotImplementedError

    def deliver(self, message: Message, recipient: Agent, silent: bool, produced_by: str | None = None) -> None:
        """Store ``message`` on both sides and emit it: the whole of a send, without the reply."""
        raise NotImplementedError

    def accept(self, message: dict, sender: Agent, silent: bool, produced_by: str | None = None) -> None:
        """Store a message received from ``sender`` and emit it (``deliver``'s receiving half)."""
        raise NotImplementedError

    def prepare_resumed_chat(self, recipient: Agent, reply_at_receive: bool) -> None:
        """Resume: both sides' per-peer state as a new chat with ``recipient`` starts it (histories cleared)."""
        raise NotImplementedError

    def restore_delivery(self, recipient: Agent, received: dict, produced_by: str | None) -> None:
        """Resume: a stored message this agent sent to ``recipient`` (the recipient's copy) back into
        both histories, and the auto-reply counter change it caused replayed; nothing emitted."""
        raise NotImplementedError
