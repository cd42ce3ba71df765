"""The one conversation loop.

Classic AutoGen implements a conversation as mutual recursion (``send`` → ``receive`` →
``generate_reply`` → ``send`` …), so long chats hit Python's recursion limit and every frame
stays alive until the chat ends. Here one loop delivers a message, asks the recipient for a
reply, and swaps roles, until a side declines to reply. Every chat pattern (two agents,
sequential, nested, group) ends up here.
"""

from __future__ import annotations

from typing import Any


async def converse(
    sender: Any,
    recipient: Any,
    message: dict | str,
    request_reply: bool | None,
    silent: bool,
    sender_stores: bool = True,
) -> None:
    """Deliver ``message`` and keep the exchange going while the receiving side replies.

    ``request_reply`` applies to the first delivery: True forces a reply, False forbids one,
    None leaves it to the recipient's ``reply_at_receive`` (set up by ``initiate_chat``).
    ``sender_stores=False`` is ``receive``: the sender's own history is not touched.
    """
    if not sender_stores:
        recipient._accept(_as_dict(message), sender, silent)
    else:
        if sender._a_send_hooks:
            message = await sender._a_process_message_before_send(message, recipient, silent)
        sender._deliver(message, recipient, silent)
    await keep_conversing(sender, recipient, request_reply, silent)


async def keep_conversing(sender: Any, recipient: Any, request_reply: bool | None, silent: bool) -> None:
    """The loop proper: ``recipient`` has just received from ``sender``; go on from there.

    Also the entry point for resuming a stored conversation whose last message was delivered.
    """
    while True:
        try:
            if request_reply is False or (request_reply is None and not recipient.reply_at_receive[sender]):
                return
            reply = await recipient.a_generate_reply(messages=recipient._oai_messages[sender], sender=sender)
        except AttributeError:
            if hasattr(recipient, "a_generate_reply"):
                raise
            # An agent of the classic Agent protocol (receive() only) got the message through its
            # own receive(), which decides whether to answer: the loop stops at it.
            return
        if reply is None:
            return
        sender, recipient = recipient, sender
        request_reply = None
        if sender._a_send_hooks:
            reply = await sender._a_process_message_before_send(reply, recipient, silent)
        sender._deliver(reply, recipient, silent)


def _as_dict(message: dict | str) -> dict:
    from ..messages import message_to_dict

    return message_to_dict(message)
