"""A run's events as JSON objects (``{"type": <event class name>, "run_id", "time", ...fields}``)
for the WebSocket ``/api/runs/{id}/events``: first everything the run store recorded, then live,
so that a browser that connects late or reconnects misses nothing and sees nothing twice.

Live events come from a sink on parley's event stream; which run an event belongs to is the
``current_run`` context variable, set in the asyncio task that runs it (tasks and the threads
they start copy it). Each event is encoded once, whatever the number of browsers watching.
Replay rebuilds the recorded kinds (chats, messages, model calls, tool calls, code executions,
human input, speaker selections, retrievals) from the store's tables, each with the time it was emitted: a
live event already replayed (emitted while the replay was read) has the same ``(type, time)``
and is skipped. Kinds the store does not keep (TokenStreamed, ModelCallStarted, ...) are live only.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
from typing import Any

from .. import events

current_run: contextvars.ContextVar[str | None] = contextvars.ContextVar("parley_studio_run", default=None)

# What browsers are sent: every kind of event a run emits but the store's internals
# (SideEffectRecorded) and ModelCallLogged (whole requests; wanting it makes every call build one).
STREAMED = (
    events.ChatStarted, events.ChatFinished, events.MessageSent, events.ReplyChosen, events.ModelCallStarted,
    events.ModelCalled, events.TokenStreamed, events.ToolCalled, events.CodeExecutionStarted, events.CodeExecuted,
    events.HumanInputRequested, events.HumanInputReceived, events.SpeakerSelected, events.TerminationChecked,
    events.Notice, events.DocumentsRetrieved, events.MemosRecalled, events.MemoStored,
)
QUEUE_LIMIT = 20_000  # events a slow browser may fall behind before it is disconnected (it reconnects and replays)
# Left out: chat ids are numbers of the process that ran the chat, silent is the console's business.
_LOCAL_FIELDS = frozenset({"chat_id", "silent"})
_encode = json.JSONEncoder(default=str, ensure_ascii=False).encode


def encode(item: dict) -> str:
    return _encode(item)


def event_dict(run_id: str, event: events.Event) -> dict:
    item: dict[str, Any] = {"type": type(event).__name__, "run_id": run_id, "time": event.time}
    fields: tuple[str, ...] = type(event).__match_args__
    for name in fields:
        if name not in _LOCAL_FIELDS:
            item[name] = getattr(event, name)
    return item


class Subscriber:
    """One WebSocket's queue of (key, JSON text); None ends it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[tuple, str] | None] = asyncio.Queue()
        self.overflowed = False

    def put(self, item: tuple[tuple, str]) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.overflowed = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(item)

    def close(self) -> None:
        self.queue.put_nowait(None)


class EventHub:
    """Fan-out of live events to the subscribers of each run."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscriber]] = {}
        self.request_times: dict[str, float] = {}  # run -> time of its last human-input request
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._stream: events.EventStream | None = None
        # Events from other threads, handed to the loop in batches: one wake-up of the loop for
        # whatever arrived meanwhile, not one per event.
        self._from_threads: list[tuple[str, tuple[tuple, str]]] = []
        self._handoff = threading.Lock()
        self._scheduled = False

    def attach(self, loop: asyncio.AbstractEventLoop, stream: events.EventStream | None = None) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._stream = stream or events.default_stream
        self._stream.add_sink(self._sink, STREAMED)

    def detach(self) -> None:
        if self._stream is not None:
            self._stream.remove_sink(self._sink)
            self._stream = None
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.close()

    def _sink(self, event: events.Event) -> None:
        run_id = current_run.get()
        if run_id is None:
            return  # not a Studio run (a script in the same process)
        if type(event) is events.HumanInputRequested:
            self.request_times[run_id] = event.time
        if not self._subscribers.get(run_id):
            return
        # Encoded now: a message dict may change after it was sent.
        item = ((type(event).__name__, event.time), encode(event_dict(run_id, event)))
        if threading.get_ident() == self._loop_thread or self._loop is None:
            self._deliver(run_id, item)
            return
        with self._handoff:
            self._from_threads.append((run_id, item))
            if self._scheduled:
                return
            self._scheduled = True
        self._loop.call_soon_threadsafe(self._deliver_from_threads)

    def _deliver_from_threads(self) -> None:
        with self._handoff:
            batch, self._from_threads = self._from_threads, []
            self._scheduled = False
        for run_id, item in batch:
            self._deliver(run_id, item)

    def _deliver(self, run_id: str, item: tuple[tuple, str]) -> None:
        for subscriber in tuple(self._subscribers.get(run_id, ())):
            subscriber.put(item)

    def publish(self, run_id: str, item: dict) -> None:
        """Send a Studio notice (``RunStatus``) to the run's subscribers (call on the loop)."""
        self._deliver(run_id, ((item["type"], item.get("time")), encode({**item, "run_id": run_id})))

    def subscribe(self, run_id: str) -> Subscriber:
        subscriber = Subscriber()
        self._subscribers.setdefault(run_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, run_id: str, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(run_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[run_id]


def _loads(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return text


def recorded_events(store: Any, run_id: str) -> list[dict]:
    """The run's recorded events, as the live ones are sent, in the order they happened."""
    found: list[tuple[float, int, int, dict]] = []

    def add(time: float | None, order: int, row_id: Any, kind: str, **fields: Any) -> None:
        if time is not None:
            found.append((time, order, hash(row_id) if not isinstance(row_id, int) else row_id,
                          {"type": kind, "run_id": run_id, "time": time, **fields}))

    for chat in store.records(run_id, "chats"):
        add(chat["started_at"], 0, chat["id"], "ChatStarted", sender=chat["sender"],
            recipient=chat["recipient"], message=_loads(chat["message"]), max_turns=chat["max_turns"])
        if chat["finished_at"] is not None:
            add(chat["finished_at"], 9, chat["id"], "ChatFinished", sender=chat["sender"],
                recipient=chat["recipient"], reason=chat["reason"], summary=chat["summary"])
    for row in store.records(run_id, "speaker_selections"):
        add(row["created_at"], 1, row["id"], "SpeakerSelected", manager=row["manager"], speaker=row["speaker"],
            method=row["method"], round=row["round"])
    for row in store.records(run_id, "model_calls"):
        add(row["created_at"], 2, row["id"], "ModelCalled", agent=row["agent"], model=row["model"],
            prompt_tokens=row["prompt_tokens"], completion_tokens=row["completion_tokens"], cost=row["cost"],
            latency_s=row["latency_s"], cached=bool(row["cached"]), purpose=row["purpose"])
    for row in store.records(run_id, "human_inputs"):
        if row["kind"] == "request":
            add(row["created_at"], 3, row["id"], "HumanInputRequested", agent=row["agent"], prompt=row["text"])
        else:
            add(row["created_at"], 4, row["id"], "HumanInputReceived", agent=row["agent"], reply=row["text"])
    for row in store.records(run_id, "tool_calls"):
        add(row["created_at"], 5, row["id"], "ToolCalled", agent=row["agent"], tool=row["tool"], arguments=row["arguments"],
            result=row["result"], ok=bool(row["ok"]), latency_s=row["latency_s"], tool_call_id=row["tool_call_id"])
    for row in store.records(run_id, "code_executions"):
        add(row["created_at"], 6, row["id"], "CodeExecuted", agent=row["agent"], language=row["language"], code=row["code"],
            exit_code=row["exit_code"], output=row["output"], executor=row["executor"], latency_s=row["latency_s"])
    for i, event in enumerate(store.retrievals(run_id)):  # in stored order: i keeps it between equal times
        fields = {name: getattr(event, name) for name in type(event).__match_args__ if name not in _LOCAL_FIELDS}
        add(event.time, 8, i, type(event).__name__, **fields)
    rows = store.records(run_id, "messages")
    # Images come back as the data URLs that were sent (the store keeps each once, by reference).
    messages = store.with_images([_loads(stored["message"]) for stored in rows])
    for stored, message in zip(rows, messages, strict=True):
        add(stored["created_at"], 7, stored["id"], "MessageSent", sender=stored["sender"], recipient=stored["recipient"],
            message=message, produced_by=stored["produced_by"])
    found.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in found]
