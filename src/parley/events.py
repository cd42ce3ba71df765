"""One typed event stream.

Everything that happens in a run is one event: a message sent, a reply chosen, a model called,
a token streamed, a tool called, code executed, human input requested or given, a speaker
selected, a chat started or finished. Sinks (the console printer, the run store, telemetry)
subscribe to the stream; agent code only emits.

Each run emits to one stream: the default one, or the one it chose (``use_stream``, a context
variable, so concurrent runs each have their own; ``current_stream()`` is it). ``emit`` sends an
event there.

Events are small slotted dataclasses. A sink may declare the event types it handles
(``sink.event_types``); the stream keeps the union in ``wanted``, and hot code builds an event
only when its type is wanted (``if MessageSent in stream.wanted: ...``), so an event nobody
listens to costs one set look-up.

Every event also has a *record*: a plain tuple ``(type, time, *fields)`` with the fields in
declaration order (``record_of`` / ``event_of`` convert). A sink that only queues or stores
events (the run store) subscribes to records; for the two kinds every message brings
(MessageSent, ModelCalled) the engine then builds one tuple and calls ``stream.publishers[kind]``
with it, which is the sink itself when it is the only one: no event object, no Python frame.
Building and emitting an event object costs several times a tuple, and on a chat with an instant model
that difference is most of what storing its messages costs.
"""

from __future__ import annotations

import contextvars
import operator
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_now = time.time


def _event_types() -> set[type]:
    """Every event type defined so far (what a catch-all sink wants)."""
    found: set[type] = set()
    pending = [Event]
    while pending:
        for kind in pending.pop().__subclasses__():
            if kind not in found:
                found.add(kind)
                pending.append(kind)
    return found


@dataclass(slots=True)
class Event:
    """Base of all events."""

    # Set by the stream on emit: the wall time (sinks see events in emission order).
    time: float = field(default=0.0, init=False)


@dataclass(slots=True)
class ChatStarted(Event):
    chat_id: int
    sender: str
    recipient: str
    message: Any = None
    max_turns: int | None = None


@dataclass(slots=True)
class ChatFinished(Event):
    chat_id: int
    sender: str
    recipient: str
    reason: str  # "terminated", "max_turns", "no_reply", "interrupted", "error", "human_exit"
    summary: str | None = None


@dataclass(slots=True)
class MessageSent(Event):
    """A message delivered from one agent to another (printed by the console sink)."""

    sender: str
    recipient: str
    message: dict
    silent: bool = False
    chat_id: int | None = None
    produced_by: str | None = None  # the sender's reply function that produced it; None: not a reply


@dataclass(slots=True)
class ReplyChosen(Event):
    """Which reply function produced an agent's reply (or that it produced none)."""

    agent: str
    sender: str | None
    reply_func: str
    final: bool


@dataclass(slots=True)
class ModelCallStarted(Event):
    """A model call is about to be made (the console shows a progress indicator until ModelCalled)."""

    agent: str | None
    model: str
    purpose: str = "reply"


@dataclass(slots=True)
class ModelCalled(Event):
    agent: str | None
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float
    latency_s: float
    cached: bool = False
    purpose: str = "reply"  # "reply", "summary", "speaker_selection"
    chat_id: int | None = None  # the chat it was made in (``current_chat_id``)


@dataclass(slots=True)
class ModelCallLogged(Event):
    """A model call in full, request and response: what the classic runtime log's
    ``chat_completions`` table holds. Built only while a sink asks for it (a runtime-logging
    session): the request's messages make it as large as the conversation."""

    agent: str | None
    model: str
    messages: list
    params: dict
    tools: list | None
    response: dict  # the assistant message
    prompt_tokens: int
    completion_tokens: int
    cost: float
    latency_s: float
    cached: bool = False


@dataclass(slots=True)
class TokenStreamed(Event):
    agent: str | None
    token: str


@dataclass(slots=True)
class ToolCalled(Event):
    agent: str
    tool: str
    arguments: str
    result: str
    ok: bool
    latency_s: float = 0.0
    tool_call_id: str | None = None


@dataclass(slots=True)
class CodeExecuted(Event):
    agent: str
    language: str
    code: str
    exit_code: int
    output: str
    executor: str
    latency_s: float = 0.0


@dataclass(slots=True)
class SideEffectRecorded(Event):
    """The whole result of a code execution (``kind="code"``) or tool call (``"tool"``), emitted
    before the result is used: the run store commits it at once, so that a resumed run reuses it
    instead of running the same code again (``parley.side_effects``). ``position``: the length of
    the history the agent answered; ``digest``: sha256 of what ran."""

    agent: str
    kind: str
    position: int
    digest: str
    result: dict


@dataclass(slots=True)
class CodeExecutionStarted(Event):
    agent: str
    blocks: int
    languages: list


@dataclass(slots=True)
class HumanInputRequested(Event):
    agent: str
    prompt: str


@dataclass(slots=True)
class HumanInputReceived(Event):
    agent: str
    reply: str


@dataclass(slots=True)
class SpeakerSelected(Event):
    manager: str
    speaker: str
    method: str
    round: int
    silent: bool = False


@dataclass(slots=True)
class TerminationChecked(Event):
    """An agent stopped replying: why (termination message, auto-reply limit, human exit)."""

    agent: str
    reason: str


@dataclass(slots=True)
class DocumentsRetrieved(Event):
    """A retrieval that built a message (``parley.retrieval``): the query, what the store returned
    (``results``: ``{"id", "source", "distance"}``, nearest first) and which chunks went into the
    message (``used``: their ids, in prompt order)."""

    agent: str
    query: str
    collection: str
    results: list
    used: list


@dataclass(slots=True)
class MemosRecalled(Event):
    """A teachable agent looked up its memos for a message: the query and the memos it added
    (``{"id", "input", "output", "distance"}``; empty: none close enough)."""

    agent: str
    query: str
    memos: list


@dataclass(slots=True)
class MemoStored(Event):
    """A teachable agent stored a memo: what would recall it (``input``) and what it recalls (``output``)."""

    agent: str
    memo_id: str
    input: str
    output: str


@dataclass(slots=True)
class Notice(Event):
    """A human-readable notice from the framework (a fallback taken, a limit reached)."""

    text: str
    level: str = "info"


Record = tuple  # (event type, time, *fields in declaration order)


# A sink takes events, or records when added with ``records=True``: which, the stream knows.
Sink = Callable[[Any], None]

# The records' layout is defined here only, from the event classes (``record_layout``): code that
# reads a record takes its fields by name (``record_reader``); the two hot spots that build one (a
# message's, a model call's) write a tuple display in declaration order, checked against the
# classes by tests/core/test_event_records.py.


def _fields(kind: type[Event]) -> tuple[str, ...]:
    """The fields of ``kind`` a record holds, in declaration order (its constructor's: all but ``time``)."""
    names: tuple[str, ...] = kind.__match_args__
    return names


def record_layout(kind: type[Event]) -> dict[str, int]:
    """Where each part of a record of ``kind`` is: "type" 0, "time" 1, then the fields in declaration order."""
    return {"type": 0, "time": 1, **{name: i for i, name in enumerate(_fields(kind), 2)}}


def record_reader(kind: type[Event], *names: str) -> Callable[[Sequence[Any]], Any]:
    """A C-level getter of the parts ``names`` of a record of ``kind`` (a tuple of them for several),
    from the record or the same items in a list (the run store's log holds them flattened)."""
    layout = record_layout(kind)
    return operator.itemgetter(*(layout[name] for name in names))


def record_of(event: Event) -> Record:
    """The record of ``event``: ``(type, time, *fields)``."""
    return (type(event), event.time, *[getattr(event, name) for name in _fields(type(event))])


def event_of(record: Record) -> Event:
    """The event a record stands for."""
    event = record[0](*record[2:])
    event.time = record[1]
    return event


def _record_publisher(sinks: list[tuple[Sink, bool]]) -> Callable[[Record], None] | None:
    """What the engine calls with a record: nothing, the one record sink itself, or a fan-out
    that builds the event object once for the sinks that take events."""
    if not sinks:
        return None
    if len(sinks) == 1 and sinks[0][1]:
        return sinks[0][0]

    def publish(record: Record, _sinks: tuple = tuple(sinks)) -> None:
        event = None
        for sink, takes_records in _sinks:
            if takes_records:
                sink(record)
            else:
                if event is None:
                    event = event_of(record)
                sink(event)

    return publish


def _from_events(sink: Sink) -> Sink:
    """A record sink as an event sink (for events emitted as objects)."""
    return lambda event: sink(record_of(event))


# Every stream made so far (weakly: a dropped stream's sinks stop counting).
_streams: weakref.WeakSet[EventStream] = weakref.WeakSet()

# The event types some sink of some stream handles (``wanted_anywhere``), and those some sink
# handles even when silent: hot code checks these before it looks up the current run's stream (a
# context-variable read), so an event nobody anywhere listens to costs one set look-up.
wanted_anywhere: set[type] = set()
wanted_silent_anywhere: set[type] = set()


def _refresh_anywhere() -> None:
    wanted, silent = set(), set()
    for stream in _streams:
        wanted |= stream.wanted
        silent |= stream.wanted_silent
    # In place: hot code keeps references to these sets.
    wanted_anywhere.clear()
    wanted_anywhere.update(wanted)
    wanted_silent_anywhere.clear()
    wanted_silent_anywhere.update(silent)


class EventStream:
    """The stream: sinks, each called in order with the events of the types it handles.

    ``wanted`` is the set of event types some sink handles; ``wanted_silent`` the smaller set
    some sink handles even when the event is marked ``silent`` (a sink that ignores silent
    events, the console, says so with ``shows_silent = False``). ``publishers`` and
    ``publishers_silent`` map every event type to what takes its record (None: nobody). All four
    are updated in place, so code may keep references to them: a silent chat with only the
    console listening builds no message events at all.
    """

    __slots__ = ("__weakref__", "_dispatch", "_dispatch_silent", "_sinks", "publishers", "publishers_silent", "wanted",
                 "wanted_silent")

    def __init__(self) -> None:
        self._sinks: list[tuple[Sink, frozenset[type] | None, bool]] = []
        # event type -> the sinks to call, in order (for silent events: those that show them).
        self._dispatch: dict[type, tuple[Sink, ...]] = {}
        self._dispatch_silent: dict[type, tuple[Sink, ...]] = {}
        self.wanted: set[type] = set()
        self.wanted_silent: set[type] = set()
        self.publishers: dict[type, Callable[[Record], None] | None] = {}
        self.publishers_silent: dict[type, Callable[[Record], None] | None] = {}
        _streams.add(self)
        self._refresh_wanted()

    def add_sink(self, sink: Sink, event_types: Iterable[type] | None = None, *, records: bool = False) -> Sink:
        """Add ``sink`` for ``event_types`` (default: ``sink.event_types``, else every event);
        ``records``: it takes records (``(type, time, *fields)``) rather than event objects."""
        if event_types is None:
            event_types = getattr(sink, "event_types", None)
        # ``==``, not ``is``: a bound method (``capture._sink``) is a new object at each access.
        if all(existing != sink for existing, _, _ in self._sinks):
            self._sinks.append((sink, frozenset(event_types) if event_types is not None else None, records))
            self._refresh_wanted()
        return sink

    def remove_sink(self, sink: Sink) -> None:
        self._sinks = [entry for entry in self._sinks if entry[0] != sink]
        self._refresh_wanted()

    def _refresh_wanted(self) -> None:
        known = _event_types()
        # event type -> [(sink, takes records)], for all events and for silent ones.
        handlers: dict[type, list[tuple[Sink, bool]]] = {kind: [] for kind in known}
        handlers_silent: dict[type, list[tuple[Sink, bool]]] = {kind: [] for kind in known}
        for sink, kinds, records in self._sinks:
            shows_silent = getattr(sink, "shows_silent", True)
            for kind in known:
                if kinds is None or kind in kinds:
                    handlers[kind].append((sink, records))
                    if shows_silent:
                        handlers_silent[kind].append((sink, records))
        self._dispatch = self._install(handlers, self.publishers, self.wanted)
        self._dispatch_silent = self._install(handlers_silent, self.publishers_silent, self.wanted_silent)
        _refresh_anywhere()

    @staticmethod
    def _install(handlers: dict[type, list[tuple[Sink, bool]]], publishers: dict, wanted: set) -> dict[type, tuple[Sink, ...]]:
        """Fill ``publishers`` and ``wanted`` in place from ``handlers``; return the dispatch table for event objects."""
        publishers.clear()
        publishers.update((kind, _record_publisher(sinks)) for kind, sinks in handlers.items())
        wanted.clear()
        wanted.update(kind for kind, sinks in handlers.items() if sinks)
        return {kind: tuple(_from_events(sink) if records else sink for sink, records in sinks)
                for kind, sinks in handlers.items()}

    @property
    def sinks(self) -> tuple[Sink, ...]:
        return tuple(sink for sink, _, _ in self._sinks)

    def emit(self, event: Event, silent: bool = False) -> None:
        """Send ``event`` to the sinks that handle its type; ``silent``: only to those that show silent events."""
        event.time = _now()
        sinks = (self._dispatch_silent if silent else self._dispatch).get(type(event))
        if sinks is None:  # an Event subclass defined after the tables were made
            self._refresh_wanted()
            sinks = (self._dispatch_silent if silent else self._dispatch).get(type(event), ())
        for sink in sinks:
            sink(event)


class capture:
    """Context manager that records every event emitted to ``stream`` (the current run's) while it is open (tests, tools)."""

    def __init__(self, stream: EventStream | None = None, kinds: tuple[type, ...] = (Event,)) -> None:
        self.stream = stream or current_stream()
        self.kinds = kinds
        self.events: list[Event] = []

    def _sink(self, event: Event) -> None:
        if isinstance(event, self.kinds):
            self.events.append(event)

    def __enter__(self) -> capture:
        self.stream.add_sink(self._sink)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.remove_sink(self._sink)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


default_stream = EventStream()

# The stream the current run emits to: the default one unless the run chose another
# (``use_stream``). A context variable, so two runs at once (asyncio tasks, threads) each emit to
# their own, and a sink attached to a run's stream (``RunStore.attach(stream=...)``,
# ``telemetry.enable(stream=...)``) sees exactly that run's events.
_current_stream: contextvars.ContextVar[EventStream] = contextvars.ContextVar("parley_event_stream", default=default_stream)
current_stream = _current_stream.get


@contextmanager
def use_stream(stream: EventStream) -> Iterator[EventStream]:
    """Emit the events of what runs inside the block (chats it starts, their tasks) to ``stream``."""
    if not isinstance(stream, EventStream):
        raise TypeError(f"stream must be an EventStream, not {type(stream).__name__}")
    token = _current_stream.set(stream)
    try:
        yield stream
    finally:
        _current_stream.reset(token)


def emit(event: Event, silent: bool = False) -> None:
    """Send ``event`` to the current run's stream (``EventStream.emit``)."""
    _current_stream.get().emit(event, silent)


# The agent whose code or tools run in the current task (set around its executions), so that
# what an executor reports (CodeExecuted) names it.
acting_agent: contextvars.ContextVar[str] = contextvars.ContextVar("parley_acting_agent", default="")

# The chat the current task is in (set by initiate_chat), so sinks can group events by chat.
current_chat_id: contextvars.ContextVar[int | None] = contextvars.ContextVar("parley_chat_id", default=None)
