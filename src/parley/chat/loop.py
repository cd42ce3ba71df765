"""The one conversation loop.

Classic AutoGen implements a conversation as mutual recursion (``send`` → ``receive`` →
``generate_reply`` → ``send`` …), so long chats hit Python's recursion limit and every frame
stays alive until the chat ends. Here one loop delivers a message, asks the recipient for a
reply, and swaps roles, until a side declines to reply. Every chat pattern (two agents,
sequential, nested, group) ends up here. It talks to agents only through ``Participant``.
"""

from __future__ import annotations

from .. import images
from ..agents.agent import Agent
from ..messages import message_to_dict
from .participant import Message, Participant


async def converse(
    sender: Agent,
    recipient: Agent,
    message: Message,
    request_reply: bool | None,
    silent: bool,
    sender_stores: bool = True,
    produced_by: str | None = None,
) -> None:
    """Deliver ``message`` and keep the exchange going while the receiving side replies.

    ``request_reply`` applies to the first delivery: True forces a reply, False forbids one,
    None leaves it to the recipient's ``reply_at_receive`` (set up by ``initiate_chat``).
    ``sender_stores=False`` is ``receive``: the sender's own history is not touched.
    ``produced_by``: the sender's reply function that made ``message`` (None: not a reply).
    """
    if not sender_stores:
        if not isinstance(recipient, Participant):
            raise TypeError(f"{type(recipient).__name__} cannot receive through the conversation loop")
        message = message_to_dict(message)
        content = message.get("content")
        if produced_by is None and content.__class__ is str and "<img" in content:
            images.note_user_text(content)  # the program's own receive(): its <img path> tags may read files, as a send's
        recipient.accept(message, sender, silent, produced_by)
    else:
        if not isinstance(sender, Participant):
            raise TypeError(f"{type(sender).__name__} cannot send through the conversation loop")
        if sender.a_send_hooks:
            message = await sender.a_apply_send_hooks(message, recipient, silent)
        sender.deliver(message, recipient, silent, produced_by)
    await keep_conversing(sender, recipient, request_reply, silent)


async def keep_conversing(sender: Agent, recipient: Agent, request_reply: bool | None, silent: bool) -> None:
    """The loop proper: ``recipient`` has just received from ``sender``; go on from there.

    Also the entry point for resuming a stored conversation whose last message was delivered.
    """
    while True:
        if not isinstance(recipient, Participant):
            # An agent of the classic Agent protocol (receive() only) got the message through its
            # own receive(), which decides whether to answer: the loop stops at it.
            return
        if request_reply is False or (request_reply is None and not recipient.reply_at_receive[sender]):
            return
        reply, produced_by = await recipient.a_reply_with_origin(sender=sender)
        if reply is None:
            return
        sender, recipient = recipient, sender
        request_reply = None
        if sender.a_send_hooks:
            reply = await sender.a_apply_send_hooks(reply, recipient, silent)
        sender.deliver(reply, recipient, silent, produced_by)


async def run_turns(initiator: Participant, recipient: Agent, started: int, max_turns: int, silent: bool) -> str:
    """The turns after the first ``started`` of a ``max_turns`` chat (``initiate_chat``, and a
    resumed one): each starts with the initiator's reply to the history, whose exchange then runs
    as ``converse`` runs it. Returns the chat's end: "completed" when the initiator declined to
    start a turn, "max_turns" when all ran."""
    for _ in range(started, max_turns):
        message, produced_by = await initiator.a_reply_with_origin(sender=recipient)
        if message is None:
            return "completed"
        await converse(initiator, recipient, message, True, silent, produced_by=produced_by)
    return "max_turns"
