"""The run recorder: sinks on the event stream that write runs into the store.

The hot path only adds to a list, the log: a message's or model call's record (``(type, time,
*fields)``, see events) goes in item by item (the list's own ``extend`` is the sink: no Python
frame, and no object per record stays alive for the garbage collector to scan), other events
with their chat and run scope, control items as one tuple. A background thread looks
at it every 200 ms and writes what is there in one transaction, rows as plain tuples through the
driver's executemany — once events pause (a model call of a real LLM, the chat's end), or at the
latest 0.5 s after they started piling up, or at once when someone flushes (readers, ``detach``,
exit, a human-input request). Batching this coarsely is what keeps the store off a fast chat's
back: the writer's Python work competes with the chat for the GIL (and sqlite releases and
retakes the GIL per row, so writing while a chat runs hot costs both sides thread switches).

Durability: everything up to the last flushed batch is stored; a crash loses at most the
unflushed tail (≤ 0.5 s of events), which resume regenerates. A human-input request is written
before the question is asked, so a run waiting for an answer is fully stored, and so is a side
effect's result (``SideEffectRecorded``) before the result is used.

Any string is stored: values go through ``text.escape`` (lone surrogates, NUL). A record the
database still refuses costs only itself: the batch is written again row by row, each in a
savepoint, and what fails is logged and skipped; a batch that cannot be written at all (the
database gone) fails the flushes waiting for it, not later ones, and never ``close()``.

A runtime-logging session (``session_id``) also logs every model call in full, request and
response, into the classic ``chat_completions`` table.

Images in messages and prompts are written once each, into ``parley_images`` by sha256, and the
records refer to them (``stored_images``): a chat about a picture sends it in every prompt.

Chats are numbered per process (``events.current_chat_id``); the recorder maps them to run ids
(uuid) and chat keys that are unique across processes.
"""

from __future__ import annotations

import collections
import contextvars
import datetime
import itertools
import json
import logging
import operator
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, cast

import sqlalchemy as sa

from .. import events
from ..models.secrets import redact
from . import schema, stored_images
from .database import _is_lock_error
from .errors import StoreError
from .stored_images import ImageExtractor
from .text import all_plain, escape

log = logging.getLogger("parley.store")

# The run that top-level chats started in this context belong to (set by RunStore.new_run).
run_scope: contextvars.ContextVar[str | None] = contextvars.ContextVar("parley_run_scope", default=None)

# The two kinds every message brings go straight into the log as records (the sink is the list's
# C-level extend); the rarer kinds as events, through a Python sink that adds the context they need.
_LOGGED_AS_RECORDS = frozenset({events.MessageSent, events.ModelCalled})
_RECORD_LENGTH = {kind: len(events.record_layout(kind)) for kind in _LOGGED_AS_RECORDS}  # type, time, fields
_message_parts = events.record_reader(events.MessageSent, "time", "sender", "recipient", "message", "chat_id", "produced_by")
_model_call_parts = events.record_reader(events.ModelCalled, "time", "agent", "model", "prompt_tokens", "completion_tokens",
                                         "cost", "latency_s", "cached", "purpose", "chat_id")
_RECORDED = _LOGGED_AS_RECORDS | {
    events.ChatStarted, events.ChatFinished, events.ToolCalled, events.CodeExecuted, events.HumanInputRequested,
    events.HumanInputReceived, events.SpeakerSelected, events.SideEffectRecorded,
    events.DocumentsRetrieved, events.MemosRecalled, events.MemoStored,
}
_FLUSH_INTERVAL_S = 0.2  # how often the writer looks at the queue
_MAX_DELAY_S = 0.5  # the longest an event waits while a hot chat keeps the writer away
_RETRY_FOR_S = 120.0
# The writer's clock and pause, replaced by tests (the pacing and the lock retries are tested without the wall clock).
_monotonic = time.monotonic
_sleep = time.sleep


def status_of(reason: str | None) -> str:
    """The run status a ChatFinished reason leaves."""
    if reason == "interrupted":
        return "interrupted"
    if reason == "error":
        return "failed"
    return "finished"


_json = json.JSONEncoder(default=str, ensure_ascii=False).encode  # one encoder: no per-call setup


def _escaped(row: tuple) -> tuple:
    """A row with its strings as the database stores them (``text.escape``)."""
    return tuple([escape(value) if value.__class__ is str else value for value in row])


def _escaped_rows(texts: Callable[[tuple], tuple], rows: list[tuple]) -> list[tuple]:
    """``rows`` as the database stores them; ``texts`` picks a row's text columns. Nearly always
    nothing needs escaping, which one scan of all their text joined tells (no per-value work)."""
    try:
        if all_plain("".join(filter(None, itertools.chain.from_iterable(map(texts, rows))))):
            return rows
    except TypeError:  # a text column holding something else: look at each value
        pass
    return [_escaped(row) for row in rows]


def _utc(timestamp: float) -> str:
    """A time as classic AutoGen's logs write it: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _title(message: Any) -> str | None:
    if isinstance(message, dict):
        message = message.get("content")
    if not isinstance(message, str) or not message:
        return None
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line[:120]


class _ChatRef:
    __slots__ = ("run_id", "key", "top_level")

    def __init__(self, run_id: str, key: str, top_level: bool) -> None:
        self.run_id = run_id
        self.key = key
        self.top_level = top_level


# The columns each event table is written with, in the order of the tuples built below.
_COLUMNS = {
    schema.messages: ("run_id", "chat_id", "sender", "recipient", "message", "produced_by", "created_at"),
    schema.model_calls: ("run_id", "chat_id", "created_at", "agent", "model", "prompt_tokens", "completion_tokens",
                         "cost", "latency_s", "cached", "purpose"),
    schema.tool_calls: ("run_id", "chat_id", "created_at", "agent", "tool", "tool_call_id", "arguments", "result",
                        "ok", "latency_s"),
    schema.code_executions: ("run_id", "chat_id", "created_at", "agent", "language", "code", "exit_code", "output",
                             "executor", "latency_s"),
    schema.side_effects: ("run_id", "chat_id", "created_at", "agent", "kind", "position", "digest", "result"),
    schema.human_inputs: ("run_id", "chat_id", "created_at", "agent", "kind", "text"),
    schema.speaker_selections: ("run_id", "chat_id", "created_at", "manager", "speaker", "method", "round"),
    schema.retrievals: ("run_id", "chat_id", "created_at", "agent", "kind", "query", "collection", "results", "used"),
    schema.chat_completions: ("invocation_id", "client_id", "wrapper_id", "session_id", "source_name", "request", "response",
                              "is_cached", "cost", "start_time", "end_time", "run_id", "chat_id"),
}
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


# Each event table's text columns but the ids parley makes (uuids; a run id given to new_run is
# checked), as a getter of the row tuples above (always two or more, so it gives a tuple).
_OWN_IDS = {"run_id", "chat_id", "invocation_id", "session_id"}
_TEXTS = {
    table: operator.itemgetter(*[i for i, name in enumerate(columns) if name not in _OWN_IDS
                                 and isinstance(table.c[name].type, (sa.String, schema.StoredText))])
    for table, columns in _COLUMNS.items()
}


def _insert_sql(dialect: sa.Dialect, table: sa.Table) -> str:
    """A positional INSERT for ``table`` in the driver's own parameter style."""
    mark = _PLACEHOLDERS.get(dialect.paramstyle)
    if mark is None:
        raise StoreError(f"the run store does not support drivers with paramstyle {dialect.paramstyle!r}")
    quote = dialect.identifier_preparer.quote
    columns = _COLUMNS[table]
    return (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, columns))}) "
            f"VALUES ({', '.join([mark] * len(columns))})")


class _Batch:
    """The rows one drained batch turns into."""

    def __init__(self) -> None:
        self.runs: list[dict] = []
        self.chats: list[dict] = []
        self.rows: dict[sa.Table, list[tuple]] = collections.defaultdict(list)
        self.run_updates: dict[str, dict] = {}
        self.chat_updates: dict[str, dict] = {}
        self.images: dict[str, dict] = {}  # parley_images rows the batch's records refer to, by digest

    def update_run(self, run_id: str, **fields: Any) -> None:
        self.run_updates.setdefault(run_id, {}).update(fields)

    def update_chat(self, key: str, **fields: Any) -> None:
        self.chat_updates.setdefault(key, {}).update(fields)


class _Pacer:
    """When the writer thread writes what the log holds: at once when asked (a flush, a close) or
    when the log stopped growing since the last look; while events keep pouring in (a chat running
    hot: writing would take GIL time from it), not before ``_MAX_DELAY_S`` after they were first
    seen. Times come from the caller, so the policy is tested without a clock."""

    def __init__(self) -> None:
        self.seen = 0  # the log's length at the last look (0: nothing pending)
        self.since = 0.0  # when the pending items were first seen

    def due(self, size: int, asked: bool, now: float) -> bool:
        """Whether to write the ``size`` items the log holds now (``size`` > 0)."""
        if not self.seen:
            self.since = now
        if not asked and size != self.seen and now - self.since < _MAX_DELAY_S:
            self.seen = size
            return False
        self.seen = 0
        return True


class Recorder:
    """``sink`` (for the event stream) + writer thread. ``flush()`` waits until everything emitted so far is committed."""

    def __init__(self, engine: sa.Engine, session_id: str | None = None) -> None:
        self._engine = engine.execution_options(parley_write=True)
        self.session_id = session_id
        # The log: records item by item, ``event, chat, run scope`` triples, control tuples. The
        # chat threads only add at its end; the writer takes a prefix (``_take``).
        self._log: list = []
        self._wake = threading.Event()
        self._closing = False
        self.error: BaseException | None = None  # the last error that cost records (for inspection)
        self.skipped = 0  # records the database refused, each logged
        # Writer-thread state.
        self._chats: dict[int, _ChatRef] = {}
        self._scoped_runs: dict[str, int] = {}  # runs made by new_run -> top-level chats seen
        self._inserts: dict[sa.Table, str] = {}
        self._images = ImageExtractor()
        self._pid = os.getpid()
        self._host = socket.gethostname()
        self.sinks = self._make_sinks()
        self._thread = threading.Thread(target=self._loop, name="parley-run-recorder", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the hot path

    def _make_sinks(self) -> list[tuple[events.Sink, frozenset, bool]]:
        """The sinks, the event types of each and whether it takes records: the log's own
        ``extend`` for the records of messages and model calls (no Python frame: they carry
        everything the writer needs, their chat included), and a closure for the rest, which
        logs ``event, current chat, run scope``."""
        extend = self._log.extend  # one bound method, kept: the stream removes sinks by identity

        def sink(event: events.Event, _extend: Callable = extend, _chat: Callable = events.current_chat_id.get) -> None:
            kind = type(event)
            if kind is events.ChatStarted:
                _extend((event, _chat(), run_scope.get()))
            elif kind is events.HumanInputRequested:
                _extend((event, _chat(), None))
                self.flush()  # stored before the question is asked: the process may be stopped while it waits
            elif kind is events.SideEffectRecorded:
                _extend((event, _chat(), None))
                try:  # committed before its result is used: a resume then reuses it instead of running it again
                    self.flush()
                except StoreError as error:  # the chat goes on; the effect may run again on a resume
                    effect = cast(events.SideEffectRecorded, event)
                    log.warning("run store: a %s result of %s could not be stored: %s", effect.kind, effect.agent, error)
            else:
                _extend((event, _chat(), None))

        # The stream sends each only these, and the engine builds no others for the store. A
        # runtime-logging session also logs model calls in full, as classic chat_completions.
        kinds = _RECORDED - _LOGGED_AS_RECORDS
        if self.session_id is not None:
            kinds |= {events.ModelCallLogged}
        return [(extend, _LOGGED_AS_RECORDS, True), (sink, kinds, False)]

    # ------------------------------------------------------------------ control

    def control(self, *item: Any) -> None:
        """Log a control item (``create_run``, ``continue_run``, ``finish_run``, ``bind``) in event order."""
        self._log.append(item)

    def flush(self, timeout: float | None = _RETRY_FOR_S) -> None:
        """Wait until everything logged so far is committed; StoreError when that batch could not
        be written at all (records the database refused one by one are logged, not raised)."""
        if not self._thread.is_alive():
            return
        done = threading.Event()
        failure: list[BaseException] = []
        self._log.append(("flush", done, failure))
        self._wake.set()
        if not done.wait(timeout):
            raise StoreError(f"the run store did not finish writing within {timeout} s")
        if failure:
            raise StoreError(f"the run store could not write: {failure[0]}")

    def close(self) -> None:
        if self._thread.is_alive():
            self._closing = True
            self._wake.set()
            self._thread.join(_RETRY_FOR_S)

    # ------------------------------------------------------------------ the writer thread

    def _loop(self) -> None:
        entries = self._log
        pacer = _Pacer()
        while True:
            asked = self._wake.wait(_FLUSH_INTERVAL_S)  # a flush, a close
            self._wake.clear()
            closing = self._closing
            size = len(entries)
            if size and pacer.due(size, asked or closing, _monotonic()):
                items = entries[:size]
                del entries[:size]  # chat threads only add at the end: the first ``size`` items are these
                self._write_items(items)
            if closing and not entries:
                return

    def _write_items(self, items: list) -> None:
        waiters = []
        batch = _Batch()
        apply_event, apply_message, apply_model_call = self._apply_event, self._apply_message, self._apply_model_call
        message_sent, model_called = events.MessageSent, events.ModelCalled
        message_length, model_call_length = _RECORD_LENGTH[message_sent], _RECORD_LENGTH[model_called]
        i, end = 0, len(items)
        while i < end:
            head = items[i]
            try:
                if head is message_sent:
                    i += message_length
                    apply_message(batch, items[i - message_length:i])
                elif head is model_called:
                    i += model_call_length
                    apply_model_call(batch, items[i - model_call_length:i])
                elif type(head) is tuple:  # a control item
                    i += 1
                    if head[0] == "flush":
                        waiters.append(head)
                    else:
                        self._apply_control(batch, head)
                else:  # event, current chat, run scope
                    i += 3
                    apply_event(batch, head, items[i - 2], items[i - 1])
            except Exception as error:  # a malformed event must not stop the recording
                log.warning("run store: skipped %s: %s", getattr(head, "__name__", type(head).__name__), error)
        failure = None
        if batch.runs or batch.chats or batch.rows or batch.run_updates or batch.chat_updates or batch.images:
            failure = self._commit(batch)
            if failure is None:
                self._images.written.update(batch.images)
        for _, done, failed in waiters:
            if failure is not None:
                failed.append(failure)
            done.set()

    def _commit(self, batch: _Batch) -> BaseException | None:
        """Write the batch in one transaction; when the database refuses it, again row by row so
        that a bad record costs only itself. The error when nothing could be written, else None."""
        try:
            self._transaction(lambda connection: self._write_batch(connection, batch))
            return None
        except Exception as error:
            first = getattr(error, "orig", None) or error
        try:
            self._transaction(lambda connection: self._write_each(connection, batch))
            return None
        except Exception as error:
            self._fail(error, first)
            return self.error

    def _transaction(self, write: Callable[[sa.Connection], None]) -> None:
        """``write`` in one write transaction, again while another process holds the lock past the busy timeout."""
        deadline = _monotonic() + _RETRY_FOR_S
        delay = 0.01
        while True:
            try:
                with self._engine.begin() as connection:
                    write(connection)
                return
            except sa.exc.OperationalError as error:
                if _is_lock_error(error) and _monotonic() < deadline:
                    _sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                raise

    def _write_batch(self, connection: sa.Connection, batch: _Batch) -> None:
        if batch.images:
            stored_images.write(connection, batch.images.values())
        if batch.runs:
            connection.execute(schema.runs.insert(), batch.runs)
        if batch.chats:
            connection.execute(schema.chats.insert(), batch.chats)
        for table, rows in batch.rows.items():
            self._insert_many(connection, table, rows)
        for run_id, fields in batch.run_updates.items():
            connection.execute(schema.runs.update().where(schema.runs.c.id == run_id).values(**fields))
        for key, fields in batch.chat_updates.items():
            connection.execute(schema.chats.update().where(schema.chats.c.id == key).values(**fields))

    def _write_each(self, connection: sa.Connection, batch: _Batch) -> None:
        """The batch row by row, each in a savepoint: what the database refuses is logged and skipped."""
        def attempt(what: str, write: Callable[..., Any], *args: Any) -> None:
            try:
                with connection.begin_nested():
                    write(*args)
            except Exception as error:  # whatever the database refuses costs only this record
                if isinstance(error, sa.exc.OperationalError) and _is_lock_error(error):
                    raise
                self.skipped += 1
                self.error = getattr(error, "orig", None) or error
                log.warning("run store: skipped a record of %s the database refused: %s", what, self.error)

        for image in batch.images.values():
            attempt(schema.images.name, stored_images.write, connection, [image])
        for row in batch.runs:
            attempt(schema.runs.name, connection.execute, schema.runs.insert(), [row])
        for row in batch.chats:
            attempt(schema.chats.name, connection.execute, schema.chats.insert(), [row])
        for table, rows in batch.rows.items():
            for one in rows:
                attempt(table.name, self._insert_many, connection, table, [one])
        for run_id, fields in batch.run_updates.items():
            attempt(schema.runs.name, connection.execute, schema.runs.update().where(schema.runs.c.id == run_id).values(**fields))
        for key, fields in batch.chat_updates.items():
            attempt(schema.chats.name, connection.execute, schema.chats.update().where(schema.chats.c.id == key).values(**fields))

    def _insert_many(self, connection: sa.Connection, table: sa.Table, rows: list[tuple]) -> None:
        """Insert tuples through the driver's executemany: SQLAlchemy's per-row parameter
        processing would cost more than the event it stores (all columns here are plain types)."""
        sql = self._inserts.get(table)
        if sql is None:
            sql = self._inserts[table] = _insert_sql(connection.dialect, table)
        connection.exec_driver_sql(sql, _escaped_rows(_TEXTS[table], rows))

    def _fail(self, error: BaseException, first: BaseException) -> None:
        self.error = getattr(error, "orig", None) or error
        log.error("run store: a batch could not be written: %s (first: %s)", self.error, first)

    # ------------------------------------------------------------------ events -> rows

    def _apply_control(self, batch: _Batch, item: tuple) -> None:
        head = item[0]
        if head == "create_run":
            _, run_id, kind, now = item
            self._scoped_runs[run_id] = 0
            batch.runs.append(self._run_row(run_id, kind, now))
        elif head == "continue_run":  # a stored run of sequential chats, resumed: new chats join it
            _, run_id, chats = item
            self._scoped_runs[run_id] = chats
        elif head == "finish_run":
            _, run_id, status, reason, now = item
            self._scoped_runs.pop(run_id, None)
            fields = {"status": status, "updated_at": now}
            if reason is not None:
                fields["reason"] = reason
            batch.update_run(run_id, **fields)
        elif head == "bind":
            _, chat_id, run_id, key, now = item
            self._chats[chat_id] = _ChatRef(run_id, key, True)
            batch.update_run(run_id, status="running", reason=None, pid=self._pid, host=self._host, updated_at=now)
            batch.update_chat(key, status="running", reason=None, finished_at=None)

    def _run_row(self, run_id: str, kind: str, now: float) -> dict:
        return {
            "id": run_id, "session_id": self.session_id, "kind": kind, "status": "running", "reason": None,
            "initiator": None, "recipient": None, "title": None, "summary": None,
            "pid": self._pid, "host": self._host, "created_at": now, "updated_at": now,
        }

    def _apply_message(self, batch: _Batch, record: Sequence[Any]) -> None:
        now, sender, recipient, message, chat_id, produced_by = _message_parts(record)
        chat = self._chats.get(chat_id)
        if chat is None:
            return  # outside any chat (a bare send): not part of a run
        if message.get("content").__class__ is list:  # images: stored once, by reference
            message = self._images.stored_message(message, batch.images)
        batch.rows[schema.messages].append((chat.run_id, chat.key, sender, recipient, _json(message), produced_by, now))

    def _apply_model_call(self, batch: _Batch, record: Sequence[Any]) -> None:
        now, agent, model, prompt_tokens, completion_tokens, cost, latency_s, cached, purpose, chat_id = _model_call_parts(record)
        chat = self._chats.get(chat_id)
        if chat is None:
            return
        batch.rows[schema.model_calls].append((
            chat.run_id, chat.key, now, agent, model, prompt_tokens, completion_tokens, cost, latency_s, bool(cached), purpose,
        ))

    def _apply_event(self, batch: _Batch, event: events.Event, current: int | None, scope: str | None) -> None:
        now = event.time
        if type(event) is events.ChatStarted:
            self._chat_started(batch, event, current, scope)
            return
        if type(event) is events.ChatFinished:
            chat = self._chats.pop(event.chat_id, None)
            if chat is None:
                return
            status = status_of(event.reason)
            batch.update_chat(chat.key, status=status, reason=event.reason, summary=event.summary, finished_at=now)
            if chat.top_level:
                fields: dict[str, Any] = {"reason": event.reason, "summary": event.summary, "updated_at": now}
                if chat.run_id not in self._scoped_runs or status != "finished":
                    fields["status"] = status
                batch.update_run(chat.run_id, **fields)
            return
        chat = self._chats.get(current) if current is not None else None
        if type(event) is events.ModelCallLogged:  # logged inside a run or not, as classic logs every call
            batch.rows[schema.chat_completions].append(self._completion_row(event, chat, batch))
            return
        if chat is None:
            return
        run_id, key = chat.run_id, chat.key
        if type(event) is events.ToolCalled:
            batch.rows[schema.tool_calls].append((
                run_id, key, now, event.agent, event.tool, event.tool_call_id,
                event.arguments if isinstance(event.arguments, str) else _json(event.arguments),
                event.result if isinstance(event.result, str) else _json(event.result), bool(event.ok), event.latency_s,
            ))
        elif type(event) is events.CodeExecuted:
            batch.rows[schema.code_executions].append((
                run_id, key, now, event.agent, event.language, event.code, event.exit_code, event.output,
                event.executor, event.latency_s,
            ))
        elif type(event) is events.SideEffectRecorded:
            batch.rows[schema.side_effects].append((run_id, key, now, event.agent, event.kind, event.position, event.digest,
                                                    _json(event.result)))
        elif type(event) is events.HumanInputRequested:
            batch.rows[schema.human_inputs].append((run_id, key, now, event.agent, "request", event.prompt))
            batch.update_run(run_id, status="waiting_input", updated_at=now)
        elif type(event) is events.HumanInputReceived:
            batch.rows[schema.human_inputs].append((run_id, key, now, event.agent, "reply", event.reply))
            batch.update_run(run_id, status="running", updated_at=now)
        elif type(event) is events.SpeakerSelected:
            batch.rows[schema.speaker_selections].append(
                (run_id, key, now, event.manager, event.speaker, event.method, event.round))
            if chat.top_level:
                batch.update_run(run_id, kind="group_chat")
        elif type(event) is events.DocumentsRetrieved:
            batch.rows[schema.retrievals].append((run_id, key, now, event.agent, "documents", event.query,
                                                  event.collection, _json(event.results), _json(event.used)))
        elif type(event) is events.MemosRecalled:
            batch.rows[schema.retrievals].append((run_id, key, now, event.agent, "memos", event.query, None,
                                                  _json(event.memos), None))
        elif type(event) is events.MemoStored:
            memo = {"id": event.memo_id, "input": event.input, "output": event.output}
            batch.rows[schema.retrievals].append((run_id, key, now, event.agent, "memo_stored", None, None,
                                                  _json([memo]), None))

    def _completion_row(self, event: events.ModelCallLogged, chat: _ChatRef | None, batch: _Batch) -> tuple:
        """A classic ``chat_completions`` row: the request and a ChatCompletion-shaped response as JSON
        (images in the prompt by reference: a chat about a picture sends it in every prompt)."""
        invocation_id = str(uuid.uuid4())
        request = {"model": event.model, "messages": self._images.stored_messages(event.messages, batch.images), **event.params}
        if event.tools:
            request["tools"] = event.tools
        response = {
            "id": invocation_id, "object": "chat.completion", "created": int(event.time), "model": event.model,
            "choices": [{"index": 0, "message": event.response,
                         "finish_reason": "tool_calls" if event.response.get("tool_calls") else "stop"}],
            "usage": {"prompt_tokens": event.prompt_tokens, "completion_tokens": event.completion_tokens,
                      "total_tokens": event.prompt_tokens + event.completion_tokens},
            "cost": event.cost,
        }
        # Redacted as the file logger's lines are: no key a client holds reaches the runtime log.
        return (invocation_id, None, None, self.session_id, event.agent, redact(_json(request)), redact(_json(response)),
                int(bool(event.cached)), event.cost, _utc(event.time - event.latency_s), _utc(event.time),
                chat.run_id if chat is not None else None, chat.key if chat is not None else None)

    def _chat_started(self, batch: _Batch, event: events.ChatStarted, parent_id: int | None, scope: str | None) -> None:
        if event.chat_id in self._chats:
            return  # a resumed chat, already bound to its stored run
        now = event.time
        parent = self._chats.get(parent_id) if parent_id is not None else None
        key = uuid.uuid4().hex
        if parent is not None:
            run_id = parent.run_id
        elif scope is not None:
            run_id = scope
            count = self._scoped_runs.get(run_id, 0)
            self._scoped_runs[run_id] = count + 1
            fields: dict[str, Any] = {"status": "running", "updated_at": now}
            if count == 0:
                fields.update(initiator=event.sender, recipient=event.recipient, title=_title(event.message))
            else:
                fields["kind"] = "sequential"
            batch.update_run(run_id, **fields)
        else:
            run_id = str(uuid.uuid4())
            row = self._run_row(run_id, "chat", now)
            row.update(initiator=event.sender, recipient=event.recipient, title=_title(event.message))
            batch.runs.append(row)
        self._chats[event.chat_id] = _ChatRef(run_id, key, parent is None)
        message = event.message
        batch.chats.append({
            "id": key, "run_id": run_id, "parent_id": parent.key if parent is not None else None,
            "sender": event.sender, "recipient": event.recipient,
            "message": _json(message) if isinstance(message, (str, dict)) else None,
            "max_turns": event.max_turns, "status": "running", "reason": None, "summary": None,
            "started_at": now, "finished_at": None,
        })
