"""Resuming a stored two-agent chat: its state put back and the exchange continued.

The run store reads what was stored and plans (``parley.store.resume``); this puts both sides'
histories and counters back as the deliveries left them and goes on with the one loop
(``keep_conversing``, ``run_turns``), as ``initiate_chat`` would have. A group chat's rebuild is
the manager's (``GroupChatManager.restore_run``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from .loop import converse, keep_conversing, run_turns
from .participant import Message, Participant


class StoredDelivery(Protocol):
    """A delivered message as the run store keeps it (``parley.store.StoredMessage``)."""

    @property
    def sender(self) -> str: ...
    @property
    def recipient(self) -> str: ...
    @property
    def message(self) -> dict:
        """The receiver's copy."""
    @property
    def produced_by(self) -> str | None: ...


def restore_exchange(initiator: Participant, recipient: Participant, stored: Sequence[StoredDelivery],
                     by_name: Mapping[str, Participant], max_turns: int | None) -> None:
    """Both sides' histories and auto-reply counters as the stored deliveries left them."""
    initiator.prepare_resumed_chat(recipient, reply_at_receive=max_turns is None)
    for delivery in stored:
        by_name[delivery.sender].restore_delivery(by_name[delivery.recipient], delivery.message, delivery.produced_by)


async def a_continue_exchange(initiator: Participant, recipient: Participant, stored: Sequence[StoredDelivery],
                              by_name: Mapping[str, Participant], opening: Message | None, max_turns: int | None,
                              silent: bool) -> str:
    """The rest of the chat after its ``stored`` messages (``opening``: its first message, when
    none was delivered); returns how it ended, as ``initiate_chat`` reports it."""
    if max_turns is None:
        if stored:
            last = stored[-1]
            await keep_conversing(by_name[last.sender], by_name[last.recipient], None, silent)
        else:
            assert opening is not None
            await converse(initiator, recipient, opening, None, silent)
        return "completed"
    # Each turn starts with one message of the initiator.
    started = sum(1 for m in stored if m.sender == initiator.name)
    if not stored:
        assert opening is not None
        await converse(initiator, recipient, opening, True, silent)
        started = 1
    elif stored[-1].sender == initiator.name:
        await keep_conversing(initiator, recipient, True, silent)  # the turn's message arrived; its reply did not
    return await run_turns(initiator, recipient, started, max_turns, silent)
