"""Chat queues: ``initiate_chats`` runs them in order, each chat's message carrying the earlier
chats' summaries; ``a_initiate_chats`` (classic async) runs them at once, each as soon as its
``prerequisites`` finished, carrying their summaries. A stored sequence that is resumed
(``parley.store.resume``) runs through the same ordered loop, the store supplying the results of
the chats that finished and the resumption of the one that was interrupted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from graphlib import CycleError, TopologicalSorter
from typing import Any

from .. import images
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


async def a_run_chats_in_order(
    chat_queue: list[dict],
    finished: Sequence[ChatResult] = (),
    resume_interrupted: Callable[[dict], Awaitable[ChatResult]] | None = None,
) -> list[ChatResult]:
    """Run the chats in order, each with the summaries of the earlier ones carried over; returns
    their results (``initiate_chats``, nested chats, a team's task).

    A resumed sequence gives what is already done: ``finished``, the results of its first chats
    (they are not run again), and ``resume_interrupted``, which resumes the next chat, the one
    that was interrupted, from its queue entry (carryover added) instead of starting it."""
    validate_chat_queue(chat_queue)
    results = list(finished)
    for chat in chat_queue[len(results):]:
        chat = with_carryover(chat, results)
        if resume_interrupted is not None and len(results) == len(finished):
            results.append(await resume_interrupted(chat))
        else:
            results.append(await _start(chat))
    return results


async def a_initiate_chats(chat_queue: list[dict]) -> dict[Any, ChatResult]:
    """Classic async chat queue: every entry has a ``chat_id`` and may list ``prerequisites``
    (ids of chats that must finish first); each chat starts as soon as its prerequisites have
    finished, carrying their summaries, and the rest run at the same time. Returns
    ``{chat_id: ChatResult}``."""
    validate_chat_queue(chat_queue)
    order = _prerequisite_order(chat_queue)
    tasks: dict[Any, asyncio.Task] = {}

    async def run(chat: dict) -> ChatResult:
        finished = [await tasks[pre] for pre in chat.get("prerequisites", ())]
        chat = with_carryover({k: v for k, v in chat.items() if k != "prerequisites"}, finished)
        return await _start(chat)

    for chat in order:  # prerequisites first: their tasks exist when a later chat awaits them
        tasks[chat["chat_id"]] = asyncio.create_task(run(chat))
    try:
        await asyncio.gather(*tasks.values())
    finally:
        for task in tasks.values():
            task.cancel()  # a failed chat stops the others (no-op for finished ones)
    return {chat["chat_id"]: tasks[chat["chat_id"]].result() for chat in chat_queue}


def _prerequisite_order(chat_queue: list[dict]) -> list[dict]:
    """The queue's entries with each one after its prerequisites; clear errors for missing or
    repeated ids, unknown prerequisites and cycles."""
    by_id: dict[Any, dict] = {}
    for i, chat in enumerate(chat_queue):
        if "chat_id" not in chat:
            raise ValueError(f"chat_queue[{i}] has no 'chat_id': a_initiate_chats runs chats at the same time and "
                             "names them by id (initiate_chats runs them in order without ids)")
        if chat["chat_id"] in by_id:
            raise ValueError(f"chat_queue[{i}]: chat_id {chat['chat_id']!r} is used twice")
        by_id[chat["chat_id"]] = chat
    for i, chat in enumerate(chat_queue):
        unknown = [pre for pre in chat.get("prerequisites", ()) if pre not in by_id]
        if unknown:
            raise ValueError(f"chat_queue[{i}] (chat_id {chat['chat_id']!r}) has unknown prerequisites {unknown}")
    sorter = TopologicalSorter({chat_id: chat.get("prerequisites", ()) for chat_id, chat in by_id.items()})
    try:
        return [by_id[chat_id] for chat_id in sorter.static_order()]
    except CycleError as error:
        raise ValueError(f"chat_queue: the prerequisites form a cycle: {' -> '.join(map(repr, error.args[1]))}") from None


def with_carryover(chat: dict, finished: list[ChatResult]) -> dict:
    """A copy of the queue entry ``chat`` whose carryover has the summaries of the ``finished`` chats appended."""
    chat = dict(chat)
    carryover = chat.get("carryover", [])
    if isinstance(carryover, str):
        carryover = [carryover]
    excluded = set(chat.pop("finished_chat_indexes_to_exclude_from_carryover", []))
    summaries = [r.summary for i, r in enumerate(finished) if i not in excluded and r.summary]
    for summary in summaries:
        if isinstance(summary, str) and "<img" in summary:
            images.note_foreign_text(summary)  # a model's words: its <img path> tags read no file, even in the user's message
    chat["carryover"] = list(carryover) + summaries
    return chat


async def _start(chat: dict) -> ChatResult:
    """Run one queue entry (its carryover already added)."""
    from .. import events

    chat = dict(chat)
    if not chat.get("silent", False):
        events.emit(events.Notice(text="Starting a new chat...."))
    sender = chat.pop("sender")
    recipient = chat.pop("recipient")
    return await sender.a_initiate_chat(recipient, **chat)


def initiate_chats(chat_queue: list[dict]) -> list[ChatResult]:
    """Run the chats in order, each carrying the earlier ones' summaries; returns their results."""
    return run_sync(a_run_chats_in_order(chat_queue))
