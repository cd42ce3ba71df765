"""Side effects that run once across a crash and a resume: code executions and tool calls.

While a run store records the chat, the whole result of each code execution and tool call is
committed to the store (``events.SideEffectRecorded``, which the recorder flushes at once) before
the result is used: before the reply that carries it is built. A resumed chat is given its stored
results (``replaying``); at the same point of the chat — the same agent, the same length of the
history it answered, the same code (sha256 of each block's language and code, in order) or the
same tool call (name, arguments, its place among the message's calls) — the stored result is
taken instead of running it again. What differs runs. Each stored result is used once.

What can still run twice is said in the README ("Side effects on resume"): code or a tool that
was running when the process died, or whose result was not committed yet.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from . import events


class Journal:
    """The stored results of one chat, by point (agent, kind, position), each usable once."""

    def __init__(self, rows: Iterable[dict]) -> None:
        self._entries: dict[tuple, list[list]] = defaultdict(list)
        for row in rows:
            self._entries[(row["agent"], row["kind"], row["position"])].append([row["digest"], row["result"], False])

    def take(self, agent: str, kind: str, position: int, digest: str) -> Any:
        """The first unused result stored at this point for the same digest, or None."""
        for entry in self._entries.get((agent, kind, position), ()):
            if not entry[2] and entry[0] == digest:
                entry[2] = True
                return entry[1]
        return None


_replaying: dict[int, Journal] = {}  # process chat id -> the stored results of the chat being resumed


@contextmanager
def replaying(chat_id: int, rows: Iterable[dict]) -> Iterator[Journal]:
    """While open, code and tool calls in chat ``chat_id`` reuse the stored ``rows`` (``result``
    already decoded from JSON) at their points."""
    journal = _replaying[chat_id] = Journal(rows)
    try:
        yield journal
    finally:
        _replaying.pop(chat_id, None)


def _digest(parts: Iterable[str]) -> str:
    """sha256 of strings, each length-prefixed; lone surrogates kept apart from the pairs they would form."""
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        sha.update(b"%d:" % len(data))
        sha.update(data)
    return sha.hexdigest()


def code_digest(blocks: list) -> str:
    return _digest(part for block in blocks for part in (block.language, block.code))


def tool_digest(index: int, name: Any, arguments: Any) -> str:
    return _digest((str(index), repr(name) if not isinstance(name, str) else name,
                    repr(arguments) if not isinstance(arguments, str) else arguments))


def _point() -> tuple[Journal | None, bool]:
    """The journal of the current chat (when it is being resumed) and whether a store records results."""
    chat_id = events.current_chat_id.get()
    return (_replaying.get(chat_id) if chat_id is not None else None), events.SideEffectRecorded in events.current_stream().wanted


async def run_code_blocks(agent: str, executor: Any, blocks: list, position: int | None) -> Any:
    """``executor.execute_code_blocks(blocks)`` in a worker thread, once: its stored result when
    the chat is resumed at the same point with the same blocks; else run, and its result committed
    (in the worker thread: the event loop does not wait for the store) before it is returned.
    ``position`` None: not at a known point of a chat, nothing reused or recorded."""
    token = events.acting_agent.set(agent)  # the worker thread runs in a copy of this context
    try:
        return await _run_code_blocks(agent, executor, blocks, position)
    finally:
        events.acting_agent.reset(token)


async def _run_code_blocks(agent: str, executor: Any, blocks: list, position: int | None) -> Any:
    if position is None:  # not at a known point of a chat: nothing reused or recorded
        return await asyncio.to_thread(executor.execute_code_blocks, blocks)
    journal, recording = _point()
    if journal is None and not recording:
        return await asyncio.to_thread(executor.execute_code_blocks, blocks)
    digest = code_digest(blocks)
    if journal is not None:
        stored = journal.take(agent, "code", position, digest)
        if stored is not None:
            from .code.base import CodeResult

            events.emit(events.Notice(
                text=f"{agent}: the same code ran at this point before the resume; its stored result is used"))
            return CodeResult(exit_code=stored["exit_code"], output=stored["output"], code_file=stored.get("code_file"))

    def execute() -> Any:
        result = executor.execute_code_blocks(blocks)
        if events.SideEffectRecorded in events.current_stream().wanted:
            events.emit(events.SideEffectRecorded(agent, "code", position, digest, {
                "exit_code": result.exit_code, "output": result.output, "code_file": getattr(result, "code_file", None)}))
        return result

    return await asyncio.to_thread(execute)


async def call_tool(agent: str, position: int | None, index: int, name: Any, arguments: Any,
                    call: Callable[[], Awaitable[Any]]) -> Any:
    """``await call()`` (a tool call, giving a ToolOutcome) once, as ``run_code_blocks`` runs code;
    ``position`` None: not at a known point of a chat (a direct call), nothing reused or recorded."""
    if position is None:
        return await call()
    journal, recording = _point()
    if journal is None and not recording:
        return await call()
    digest = tool_digest(index, name, arguments)
    if journal is not None:
        stored = journal.take(agent, "tool", position, digest)
        if stored is not None:
            from .tools.tool import ToolOutcome

            events.emit(events.Notice(
                text=f"{agent}: the same tool call ran at this point before the resume; its stored result is used"))
            return ToolOutcome(stored["content"], stored["ok"])
    outcome = await call()
    if events.SideEffectRecorded in events.current_stream().wanted:
        record = events.SideEffectRecorded(agent, "tool", position, digest, {"content": outcome.content, "ok": outcome.ok})
        await asyncio.to_thread(events.emit, record)  # the commit waits in a worker thread, not on the event loop
    return outcome
