"""Nested chats: a reply function that runs a queue of chats and replies with the result."""

from __future__ import annotations

from typing import Any

from ..agents.agent import Agent
from .participant import Participant
from .sequential import a_run_chats_in_order


def chats_to_run(chat_queue: list[dict], recipient: Participant, messages: list[dict] | None, sender: Agent | None,
                 config: Any) -> list[dict]:
    """The queue with senders and messages filled in (classic rules: the first chat defaults to
    the last received message; a callable message is called; chats with no message are skipped)."""
    last_content = messages[-1].get("content") if messages else None
    result = []
    for i, chat in enumerate(chat_queue):
        chat = dict(chat)
        if chat.get("sender") is None:
            chat["sender"] = recipient
        message = chat.get("message")
        if message is None and i == 0:
            message = last_content
        if callable(message):
            message = message(recipient, messages, sender, config)
        if message:
            chat["message"] = message
            result.append(chat)
    return result


async def nested_chats_reply(chat_queue: list[dict], recipient: Participant, messages: list[dict] | None, sender: Agent | None,
                             config: Any) -> tuple[bool, Any]:
    """Reply with the summary of the last nested chat."""
    queue = chats_to_run(chat_queue, recipient, messages, sender, config)
    if not queue:
        return True, None
    results = await a_run_chats_in_order(queue)
    return True, results[-1].summary
