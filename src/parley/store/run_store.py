"""``RunStore``: durable, inspectable runs.

Recording::

    with RunStore("sqlite:///runs.db") as store:          # attaches the recorder to the event stream
        with store.new_run() as run:                       # optional: group chats under one run id
            user.initiate_chat(assistant, message="...")
        print(run.id)

Without ``new_run`` each top-level chat is its own run. Reading: ``list_runs``, ``get_run``,
``messages``, ``records``, ``export``. Resuming: ``store.resume(run_id, agents=[...])`` (see
``parley.store.resume``).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from .. import events
from .._sync import run_sync
from . import schema, stored_images
from .database import open_engine, redact, store_url
from .errors import RunNotFoundError, StoreError
from .recorder import Recorder, run_scope
from .resume import a_resume_run
from .text import escape

_TABLES = {
    "messages": schema.messages, "model_calls": schema.model_calls, "tool_calls": schema.tool_calls,
    "code_executions": schema.code_executions, "human_inputs": schema.human_inputs,
    "speaker_selections": schema.speaker_selections, "side_effects": schema.side_effects,
    "retrievals": schema.retrievals, "chats": schema.chats,
}
# Decoded in exports (a None stays None).
_JSON_COLUMNS = {"messages": ("message",), "side_effects": ("result",), "retrievals": ("results", "used")}


@dataclass
class RunInfo:
    """One run, as listed."""

    id: str
    """The run id (a uuid)."""
    kind: str
    """"chat" (two agents), "group_chat" or "sequential"."""
    status: str
    """running, waiting_input, finished, interrupted or failed."""
    reason: str | None
    """Why its last top-level chat ended (terminated, max_turns, human_exit, error …)."""
    initiator: str | None
    recipient: str | None
    title: str | None
    """The first line of the first message."""
    summary: str | None
    created_at: float
    updated_at: float
    messages: int
    """How many messages are stored."""
    cost: float
    """The total cost of its model calls (cached calls count 0)."""
    tokens: int
    pid: int | None
    host: str | None


@dataclass
class StoredMessage:
    """One delivered message of a run."""

    sender: str
    recipient: str
    message: dict
    """As the recipient stored it (role from its point of view)."""
    chat_id: str
    produced_by: str | None
    """The reply function that produced it; None for an initial message."""
    created_at: float


class RunContext:
    """The run opened by ``RunStore.new_run``; ``id`` is its run id."""

    def __init__(self, store: RunStore, run_id: str) -> None:
        self.store = store
        self.id = run_id
        self._token: Any = None

    def __enter__(self) -> RunContext:
        recorder = self.store.require_recorder()
        recorder.control("create_run", self.id, "chat", time.time())
        self._token = run_scope.set(self.id)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        run_scope.reset(self._token)
        if exc_type is None:
            status, reason = "finished", None
        elif issubclass(exc_type, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
            status, reason = "interrupted", "interrupted"
        else:
            status, reason = "failed", "error"
        recorder = self.store.require_recorder()
        recorder.control("finish_run", self.id, status, reason, time.time())
        recorder.flush()


class RunStore:
    """A run store on a SQLAlchemy URL (``sqlite:///file.db``, ``postgresql+psycopg://…``) or a
    file path; default ``$PARLEY_STORE_URL`` or ``.parley/runs.db``."""

    def __init__(self, url: str | os.PathLike | None = None, *, session_id: str | None = None, create: bool = True) -> None:
        """``create=False``: a SQLite file that does not exist is a StoreError (for readers, which
        should not leave an empty store behind)."""
        self.url = store_url(url)
        self.engine = open_engine(self.url, create=create)
        self.session_id = session_id
        self._recorder: Recorder | None = None
        self._stream: events.EventStream | None = None
        self.last_run_id: str | None = None

    def __repr__(self) -> str:
        return f"RunStore({redact(self.url)!r})"

    # ------------------------------------------------------------------ recording

    def attach(self, stream: events.EventStream | None = None) -> RunStore:
        """Start recording the events of ``stream`` (the default stream): the runs that emit to it
        (``events.use_stream``)."""
        if self._recorder is None:
            self._recorder = Recorder(self.engine, self.session_id)
            self._stream = stream or events.default_stream
            for sink, kinds, records in self._recorder.sinks:
                self._stream.add_sink(sink, kinds, records=records)
            atexit.register(self._flush_at_exit)
        return self

    def detach(self) -> None:
        """Stop recording; everything recorded so far is written first (what cannot be is logged:
        detaching, and so ``close()``, never raises)."""
        recorder = self._recorder
        if recorder is None:
            return
        stream, self._stream = self._stream, None  # not attached: ``stream`` is the default one again
        assert stream is not None
        for sink, _, _ in recorder.sinks:
            stream.remove_sink(sink)
        atexit.unregister(self._flush_at_exit)
        self._recorder = None
        try:
            recorder.flush()
        except StoreError:
            pass  # logged by the recorder; the records it could write are stored
        finally:
            recorder.close()

    @property
    def attached(self) -> bool:
        return self._recorder is not None

    @property
    def stream(self) -> events.EventStream:
        """The stream it records (the default one when not attached)."""
        return self._stream if self._stream is not None else events.default_stream

    def flush(self) -> None:
        """Wait until everything emitted so far is committed."""
        if self._recorder is not None:
            self._recorder.flush()

    def close(self) -> None:
        self.detach()
        self.engine.dispose()

    def __enter__(self) -> RunStore:
        return self.attach()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _flush_at_exit(self) -> None:
        self.detach()

    def require_recorder(self) -> Recorder:
        """The recorder of an attached store (a clear error when it is not recording)."""
        if self._recorder is None:
            raise StoreError("the run store is not recording: use it as a context manager or call attach() first")
        return self._recorder

    def new_run(self, run_id: str | None = None) -> RunContext:
        """A context in which every top-level chat belongs to one run (``run_id`` or a new uuid)."""
        if run_id is not None:
            if not isinstance(run_id, str) or not run_id or len(run_id) > 36 or escape(run_id) != run_id:
                raise ValueError(f"run_id must be a non-empty str of at most 36 characters, without NUL or "
                                 f"surrogates, got {run_id!r}")
            if self._find(run_id) is not None:
                raise StoreError(f"run {run_id!r} already exists in {self!r}")
        run_id = run_id or str(uuid.uuid4())
        self.last_run_id = run_id
        return RunContext(self, run_id)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` (e.g. ``user.initiate_chat``) as one recorded run; its id is
        then ``store.last_run_id``."""
        attached_here = not self.attached
        if attached_here:
            self.attach()
        try:
            with self.new_run():
                return fn(*args, **kwargs)
        finally:
            if attached_here:
                self.detach()

    # ------------------------------------------------------------------ reading

    def _find(self, run_id: str) -> dict | None:
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(schema.runs).where(schema.runs.c.id == run_id)).mappings().first()
        return dict(row) if row is not None else None

    def resolve(self, run_id: str) -> str:
        """The full id of a run given its id or a unique prefix of at least 4 characters."""
        if not isinstance(run_id, str) or not run_id:
            raise RunNotFoundError(f"run id must be a non-empty str, got {run_id!r}")
        self.flush()  # reads see everything this process recorded
        with self.engine.connect() as connection:
            if connection.execute(sa.select(schema.runs.c.id).where(schema.runs.c.id == run_id)).first() is not None:
                return run_id
            matches: Sequence[str] = []
            if len(run_id) >= 4:
                matches = connection.execute(
                    sa.select(schema.runs.c.id).where(schema.runs.c.id.startswith(run_id, autoescape=True)).limit(2)
                ).scalars().all()
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise RunNotFoundError(f"run id prefix {run_id!r} matches several runs in {self!r}; give more characters")
        raise RunNotFoundError(f"no run with id {run_id!r} in {self!r}")

    def _run_infos(self, where: Any, limit: int | None) -> list[RunInfo]:
        runs, messages, calls = schema.runs, schema.messages, schema.model_calls
        message_counts = (
            sa.select(messages.c.run_id, sa.func.count().label("n")).group_by(messages.c.run_id).subquery()
        )
        usage = (
            sa.select(
                calls.c.run_id,
                sa.func.sum(sa.case((calls.c.cached, 0.0), else_=calls.c.cost)).label("cost"),
                sa.func.sum(calls.c.prompt_tokens + calls.c.completion_tokens).label("tokens"),
            ).group_by(calls.c.run_id).subquery()
        )
        query = (
            sa.select(runs, message_counts.c.n, usage.c.cost, usage.c.tokens)
            .outerjoin(message_counts, message_counts.c.run_id == runs.c.id)
            .outerjoin(usage, usage.c.run_id == runs.c.id)
            .order_by(runs.c.created_at.desc())
        )
        if where is not None:
            query = query.where(where)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            RunInfo(
                id=r["id"], kind=r["kind"], status=r["status"], reason=r["reason"], initiator=r["initiator"],
                recipient=r["recipient"], title=r["title"], summary=r["summary"], created_at=r["created_at"],
                updated_at=r["updated_at"], messages=r["n"] or 0, cost=float(r["cost"] or 0.0),
                tokens=int(r["tokens"] or 0), pid=r["pid"], host=r["host"],
            )
            for r in rows
        ]

    def list_runs(self, limit: int | None = 50, status: str | None = None) -> list[RunInfo]:
        """The newest runs first."""
        self.flush()
        where = schema.runs.c.status == status if status is not None else None
        return self._run_infos(where, limit)

    def get_run(self, run_id: str) -> RunInfo:
        run_id = self.resolve(run_id)
        return self._run_infos(schema.runs.c.id == run_id, None)[0]

    def messages(self, run_id: str, chat_id: str | None = None) -> list[StoredMessage]:
        """The run's messages in delivery order (of one chat when ``chat_id`` is given); images
        as the data URLs they were sent as (the store keeps each once, see ``stored_images``)."""
        run_id = self.resolve(run_id)
        table = schema.messages
        query = sa.select(table).where(table.c.run_id == run_id).order_by(table.c.id)
        if chat_id is not None:
            query = query.where(table.c.chat_id == chat_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        decoded = self.with_images([json.loads(r["message"]) for r in rows])
        return [
            StoredMessage(
                sender=r["sender"], recipient=r["recipient"], message=message, chat_id=r["chat_id"],
                produced_by=r["produced_by"], created_at=r["created_at"],
            )
            for r, message in zip(rows, decoded, strict=True)
        ]

    def with_images(self, messages: list) -> list:
        """Decoded stored messages with each stored image they refer to as its data URL."""
        digests: set[str] = set()
        for message in messages:  # only content parts hold images: the rest is not walked
            if message.__class__ is dict and message.get("content").__class__ is list:
                stored_images.references(message["content"], digests)
        if not digests:
            return messages
        with self.engine.connect() as connection:
            urls = stored_images.load(connection, digests)
        return [{**message, "content": stored_images.resolve(message["content"], urls)}
                if message.__class__ is dict and message.get("content").__class__ is list else message
                for message in messages]

    def records(self, run_id: str, kind: str) -> list[dict]:
        """The run's rows of one kind: chats, messages, model_calls, tool_calls, code_executions,
        human_inputs, speaker_selections, side_effects (code executions and tool calls with their
        whole results, JSON in ``result``, as a resume reuses them) or retrievals (JSON in
        ``results`` and ``used``; ``retrievals()`` gives them as events)."""
        table = _TABLES.get(kind)
        if table is None:
            raise ValueError(f"kind must be one of {', '.join(_TABLES)}; got {kind!r}")
        run_id = self.resolve(run_id)
        order = table.c.started_at if table is schema.chats else table.c.id
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(table).where(table.c.run_id == run_id).order_by(order)).mappings().all()
        return [dict(r) for r in rows]

    def retrievals(self, run_id: str) -> list[events.Event]:
        """The run's retrievals as the events that were emitted (``DocumentsRetrieved``,
        ``MemosRecalled``, ``MemoStored``, with their times), in order."""
        from .export import retrieval_events

        return retrieval_events(self.records(run_id, "retrievals"))

    def export(self, run_id: str, format: str = "json") -> str:
        """The whole run as JSON (everything stored) or Markdown (a readable transcript)."""
        from .export import to_json, to_markdown

        if format not in ("json", "md"):
            raise ValueError(f"format must be 'json' or 'md', got {format!r}")
        info = self.get_run(run_id)
        data: dict[str, Any] = {"run": asdict(info), **{kind: self.records(info.id, kind) for kind in _TABLES}}
        for kind, columns in _JSON_COLUMNS.items():
            for row in data[kind]:
                for column in columns:
                    if row[column] is not None:
                        row[column] = json.loads(row[column])
        # The images its messages show, each once (messages name them as parley-image:<digest>).
        with self.engine.connect() as connection:
            data["images"] = stored_images.metadata_rows(
                connection, stored_images.references([row["message"] for row in data["messages"]]))
        return to_json(data) if format == "json" else to_markdown(data)

    # ------------------------------------------------------------------ resuming

    # What resuming a run writes (``parley.store.resume``), in event order with what the run records.

    def bind_chat(self, chat_id: int, run_id: str, chat_key: str) -> None:
        """Record the chat ``chat_id`` of this process into the stored chat ``chat_key`` of ``run_id``."""
        self.require_recorder().control("bind", chat_id, run_id, chat_key, time.time())

    def continue_run(self, run_id: str, chats: int) -> None:
        """Reopen ``run_id`` (which has ``chats`` top-level chats) for more chats; it ends with ``finish_run``."""
        self.require_recorder().control("continue_run", run_id, chats)

    def finish_run(self, run_id: str, status: str, reason: str | None) -> None:
        self.require_recorder().control("finish_run", run_id, status, reason, time.time())

    def forget_speaker_selections(self, chat_key: str, keep: int) -> None:
        """Delete a chat's speaker selections after its first ``keep``: a crash lost the messages
        they led to, and resume selects those speakers again (one row per round stays true)."""
        table = schema.speaker_selections
        with self.engine.begin() as connection:
            kept = connection.execute(sa.select(table.c.id).where(table.c.chat_id == chat_key)
                                      .order_by(table.c.id).offset(keep).limit(1)).scalar()
            if kept is not None:
                connection.execute(table.delete().where(table.c.chat_id == chat_key, table.c.id >= kept))

    def resume(self, run_id: str, agents: list | None = None, **options: Any) -> Any:
        """Finish an unfinished run (see ``parley.store.resume``)."""
        return run_sync(self.a_resume(run_id, agents, **options))

    async def a_resume(self, run_id: str, agents: list | None = None, **options: Any) -> Any:
        return await a_resume_run(run_id, agents, store=self, **options)


def open_store(store: RunStore | str | os.PathLike | None) -> RunStore:
    """``store`` itself, or the existing store at that URL or path (the default store for None)."""
    return store if isinstance(store, RunStore) else RunStore(store, create=False)


async def a_resume(run_id: str, agents: list | None = None, *, store: RunStore | str | os.PathLike | None = None,
                   **options: Any) -> Any:
    """Continue the stored run ``run_id`` until it ends and return its result (see ``RunStore.a_resume``
    and ``parley.store.resume``); ``store``: a RunStore, or a URL or path (the default store for None)."""
    return await open_store(store).a_resume(run_id, agents, **options)


def resume(run_id: str, agents: list | None = None, *, store: RunStore | str | os.PathLike | None = None,
           **options: Any) -> Any:
    """Sync face of ``a_resume``."""
    return run_sync(a_resume(run_id, agents, store=store, **options))
