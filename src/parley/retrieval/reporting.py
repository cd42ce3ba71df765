"""How retrievals are reported: as events (``DocumentsRetrieved``, ``MemosRecalled``, ``MemoStored``),
silent in a silent chat as its messages are, and as one line each (``summary``): what the console
prints and ``parley runs show`` and Markdown exports list, so that a reader sees where an answer
came from. The line is the stored text as is: a terminal shows it through ``parley.io.console.visible``."""

from __future__ import annotations

import os

from .. import events
from ..chat import conversation

_QUERY_CHARS = 60
_SOURCES_SHOWN = 5


def emit(event: events.Event) -> None:
    """Emit a retrieval event: silent (not printed) when the chat it happens in is."""
    chat = conversation.current.get()
    events.emit(event, silent=chat is not None and chat.silent)


def _quoted(text: object, limit: int = _QUERY_CHARS) -> str:
    text = " ".join(str(text).split())
    return '"' + (text[:limit] + "…" if len(text) > limit else text) + '"'


def _distance(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, (int, float)) else "?"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary(event: events.Event, ids: bool = False) -> str:
    """The line for ``event``; ``ids``: with the ids of the chunks used (documents) or memos."""
    if isinstance(event, events.DocumentsRetrieved):
        found = {str(result.get("id")): result for result in event.results if isinstance(result, dict)}
        used = [found.get(str(chunk), {"source": "?"}) for chunk in event.used]
        text = f"RETRIEVED {_plural(len(event.used), 'chunk')} for {_quoted(event.query)}"
        if used:
            sources = [f"{os.path.basename(str(r.get('source') or '')) or '?'} ({_distance(r.get('distance'))})"
                       for r in used[:_SOURCES_SHOWN]]
            more = f", +{len(used) - _SOURCES_SHOWN} more" if len(used) > _SOURCES_SHOWN else ""
            text += " from " + ", ".join(sources) + more
        else:
            text += f" ({len(event.results)} found, none new)"
        if ids and event.used:
            text += " [chunks " + ", ".join(map(str, event.used)) + "]"
    elif isinstance(event, events.MemosRecalled):
        text = f"RECALLED {_plural(len(event.memos), 'memo')} for {_quoted(event.query)}"
        if event.memos:
            text += ": " + ", ".join(f"{_quoted(memo.get('input'), 40)} ({_distance(memo.get('distance'))})"
                                     for memo in event.memos[:_SOURCES_SHOWN])
        if ids and event.memos:
            text += " [memos " + ", ".join(str(memo.get("id")) for memo in event.memos) + "]"
    elif isinstance(event, events.MemoStored):
        text = f"STORED MEMO {_quoted(event.input, 40)} -> {_quoted(event.output, 40)}"
        if ids:
            text += f" [memo {event.memo_id}]"
    else:
        raise TypeError(f"event must be a retrieval event, got {type(event).__name__}")
    return text
