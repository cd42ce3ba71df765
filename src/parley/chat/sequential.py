"""Sequential chats: each chat's message carries the earlier chats' summaries."""

from __future__ import annotations

from .._sync import run_sync
from .result import ChatResult


def validate_chat_queue(chat_queue: list[dict]) -> None:
    if not isinstance(chat_queue, list):
        raise TypeError(f"chat_queue must be a list of dicts, not {type(chat_queue).__name__}")
    for i, chat in enumerate(chat_queue):
        if not isinstance(chat, dict):
            raise TypeError(f"chat_queue[{i}] must be a dict, not {type(chat).__name__}")
        for key in ("sender", "recipient"):
            if chat.get(key) is None:
                raise ValueError(f"chat_queue[{i}] has no {key!r}")


async def a_initiate_chats(chat_queue: list[dict]) -> list[ChatResult]:
    """Run the chats in order; returns their results."""
    validate_chat_queue(chat_queue)
    return await continue_chats(chat_queue, [])


def with_carryover(chat: dict, finished: list[ChatResult]) -> dict:
    """A copy of the queue entry ``chat`` whose carryover has the summaries of the ``finished`` chats appended."""
    chat = dict(chat)
    carryover = chat.get("carryover", [])
    if isinstance(carryover, str):
        carryover = [carryover]
    excluded = set(chat.pop("finished_chat_indexes_to_exclude_from_carryover", []))
    chat["carryover"] = list(carryover) + [r.summary for i, r in enumerate(finished) if i not in excluded and r.summary]
    return chat


async def continue_chats(chat_queue: list[dict], finished: list[ChatResult]) -> list[ChatResult]:
    """Run the chats of ``chat_queue`` after the ``finished`` ones (their results, in order);
    returns all the results (a stored sequence that is resumed goes on with this)."""
    from .. import events

    for chat in chat_queue[len(finished):]:
        chat = with_carryover(chat, finished)
        if not chat.get("silent", False):
            events.emit(events.Notice(text="Starting a new chat...."))
        sender = chat.pop("sender")
        recipient = chat.pop("recipient")
        finished.append(await sender.a_initiate_chat(recipient, **chat))
    return finished


def initiate_chats(chat_queue: list[dict]) -> list[ChatResult]:
    return run_sync(a_initiate_chats(chat_queue))
