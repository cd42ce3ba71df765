"""What the conversation loop needs of an agent: ``Participant``.

The loop (``chat.loop``), summaries (``chat.summary``), the group chat (``groupchat/``) and
resuming a stored run (``chat.resume``, ``store.resume``) talk to agents through these methods,
never through an agent's private attributes. A reply travels with
the name of the reply function that produced it (``Reply``), from the agent that made it to the
message event that records it (``MessageSent.produced_by``): nothing is left on the agent for the
other side to read back.

A base class rather than a ``typing.Protocol``: its methods take the other side as the classic
``Agent``, and an agent of the classic ``Agent`` protocol (``receive`` only, not a
``Participant``) can still be a chat's recipient: the loop delivers to it and stops there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Protocol

from ..agents.agent import Agent

if TYPE_CHECKING:
    from ..models.wrapper import OpenAIWrapper

Message = str | dict
"""A message as agents send it: its text, or an OpenAI-style dict."""

Reply = tuple[Message | None, str | None]
"""An agent's reply (None: it declines) and the name of the reply function that produced it."""


class OwedHistory(Protocol):
    """Messages a group chat in progress still owes an agent's histories (``groupchat.broadcast.Broadcast``)."""

    def catch_up(self, agent: Participant) -> None:
        """Bring ``agent``'s histories up to date."""


class Participant(Agent):
    """An agent the loop can ask for replies and deliver messages for."""

    DEFAULT_SUMMARY_PROMPT: str
    """The prompt of a ``reflection_with_llm`` summary when the chat gives none."""
    reply_at_receive: MutableMapping[Agent, bool]
    """Per peer: whether a message from it asks for a reply when the sender did not say."""
    a_send_hooks: list[Callable[..., object]]
    """The async before-send hooks (classic ``a_process_message_before_send``); empty: nothing to await."""
    client: OpenAIWrapper | None
    """Its model access (None without an ``llm_config``): a summary may ask it."""

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

    def prepare_chat_side(self, peer: Agent, clear_history: bool, reply_at_receive: bool) -> None:
        """This agent's per-peer state as a new chat with ``peer`` starts it (counters,
        ``reply_at_receive``, the history when ``clear_history``); ``peer``'s own side is not touched."""
        raise NotImplementedError

    def extend_history(self, peer: Agent, messages: list[dict]) -> None:
        """Append ``messages`` (already in this agent's stored form) to its history with ``peer``;
        nothing is emitted or counted (a group chat's broadcast catching it up)."""
        raise NotImplementedError

    def join_broadcast(self, owed: OwedHistory) -> None:
        """A group chat in progress owes this agent messages: its history accessors catch up first."""
        raise NotImplementedError

    def leave_broadcast(self, owed: OwedHistory) -> None:
        """The group chat ``owed`` is over (nothing, when the agent has joined another since)."""
        raise NotImplementedError

    @property
    def chat_messages(self) -> dict[Agent, list[dict]]:
        """Classic: its history with each peer."""
        raise NotImplementedError

    def last_message(self, agent: Agent | None = None) -> dict | None:
        """The last message of its history with ``agent`` (classic)."""
        raise NotImplementedError

    def chat_messages_for_summary(self, agent: Agent) -> list[dict]:
        """The messages a summary of its chat with ``agent`` is made of."""
        raise NotImplementedError

    def clear_history(self, recipient: Agent | None = None, nr_messages_to_preserve: int | None = None) -> None:
        """Classic: clear its history with ``recipient`` (all, without), keeping the last messages when asked."""
        raise NotImplementedError

    async def a_generate_init_message(self, message: dict | str | None, **kwargs: object) -> str | dict:
        """A chat's first message as ``initiate_chat`` makes it (the carryover added)."""
        raise NotImplementedError

    @property
    def human_input(self) -> list[str]:
        """What a human typed for it in its last chat (``ChatResult.human_input``)."""
        raise NotImplementedError

    def restore_human_input(self, replies: list[str]) -> None:
        """Resume: what the human typed for it in the stored chat."""
        raise NotImplementedError

    def prepare_resumed_chat(self, recipient: Agent, reply_at_receive: bool) -> None:
        """Resume: both sides' per-peer state as a new chat with ``recipient`` starts it (histories cleared)."""
        raise NotImplementedError

    def restore_delivery(self, recipient: Agent, received: dict, produced_by: str | None) -> None:
        """Resume: a stored message this agent sent to ``recipient`` (the recipient's copy) back into
        both histories, and the auto-reply counter change it caused replayed; nothing emitted."""
        raise NotImplementedError
