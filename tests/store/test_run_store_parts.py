"""RunStore's own parts on a SQLite store of the test's own: reading (rows written straight into
the tables, so each reader is tested alone), ``new_run`` and its run context, attach and detach.
No chat runs and every store is closed (its writer thread joined) before the test ends."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
import sqlalchemy as sa

from parley import events
from parley.store import RunStore, StoreError, recorder, run_store, schema
from parley.store.errors import RunNotFoundError
from parley.store.recorder import run_scope
from parley.store.run_store import RunInfo, StoredMessage, open_store


@pytest.fixture
def store(store_file, monkeypatch):
    monkeypatch.setattr(recorder, "_FLUSH_INTERVAL_S", 3600.0)  # the writer writes when asked only
    store = RunStore(store_file)
    yield store
    store.close()


def add_run(store: RunStore, run_id: str, created_at: float, status: str = "finished", **fields) -> None:
    values = {"id": run_id, "kind": "chat", "status": status, "created_at": created_at, "updated_at": created_at + 1,
              **fields}
    with store.engine.begin() as connection:
        connection.execute(schema.runs.insert().values(**values))


def add(store: RunStore, table: sa.Table, *rows: dict) -> None:
    with store.engine.begin() as connection:
        for values in rows:
            connection.execute(table.insert().values(**values))


def message(run_id: str, chat_id: str, content: str, at: float, sender: str = "alice", recipient: str = "bob") -> dict:
    return {"run_id": run_id, "chat_id": chat_id, "sender": sender, "recipient": recipient,
            "message": json.dumps({"content": content, "role": "user"}), "produced_by": None, "created_at": at}


def call(run_id: str, cost: float, prompt: int, completion: int, cached: bool = False) -> dict:
    return {"run_id": run_id, "chat_id": "c", "created_at": 1.0, "agent": "bob", "model": "m", "prompt_tokens": prompt,
            "completion_tokens": completion, "cost": cost, "latency_s": 0.1, "cached": cached, "purpose": "reply"}


# ---------------------------------------------------------------------------------------- reading

def test_list_runs_newest_first_with_counts_cost_and_tokens(store):
    add_run(store, "aaaa-old", 10.0, reason="terminated", initiator="alice", recipient="bob", title="t",
            summary="s", pid=7, host="h")
    add_run(store, "bbbb-new", 20.0, status="failed")
    add_run(store, "cccc-mid", 15.0)
    add(store, schema.messages, message("aaaa-old", "c", "one", 1.0), message("aaaa-old", "c", "two", 2.0),
        message("cccc-mid", "c", "x", 1.0))
    add(store, schema.model_calls, call("aaaa-old", 0.5, 10, 5), call("aaaa-old", 0.25, 1, 2),
        call("aaaa-old", 9.0, 100, 100, cached=True),  # a cached call costs nothing but its tokens count
        call("cccc-mid", 1.0, 3, 4))  # each run its own
    runs = store.list_runs()
    assert [r.id for r in runs] == ["bbbb-new", "cccc-mid", "aaaa-old"]
    assert runs[2] == RunInfo(id="aaaa-old", kind="chat", status="finished", reason="terminated", initiator="alice",
                              recipient="bob", title="t", summary="s", created_at=10.0, updated_at=11.0, messages=2,
                              cost=0.75, tokens=218, pid=7, host="h")
    assert (runs[1].messages, runs[1].cost, runs[1].tokens) == (1, 1.0, 7)
    nothing = runs[0]  # no message, no model call: zeros, not None
    assert (nothing.messages, nothing.cost, nothing.tokens) == (0, 0.0, 0)
    assert type(nothing.cost) is float and type(nothing.tokens) is int and type(runs[2].tokens) is int
    assert [r.id for r in store.list_runs(limit=2)] == ["bbbb-new", "cccc-mid"]
    assert [r.id for r in store.list_runs(status="failed")] == ["bbbb-new"]
    assert [r.id for r in store.list_runs(limit=None)] == ["bbbb-new", "cccc-mid", "aaaa-old"]
    assert len(store.list_runs(limit=1, status="finished")) == 1


def test_list_runs_shows_at_most_fifty_by_default(store):
    add(store, schema.runs, *({"id": f"run-{i:03}", "kind": "chat", "status": "finished", "created_at": float(i),
                               "updated_at": float(i)} for i in range(51)))
    runs = store.list_runs()
    assert len(runs) == 50 and runs[0].id == "run-050" and runs[-1].id == "run-001"


def test_a_run_is_found_by_its_id_or_a_unique_prefix_of_four_characters(store):
    add_run(store, "abcd1234", 1.0)
    add_run(store, "abcd5678", 2.0)
    add_run(store, "wxyz0000", 3.0)
    add_run(store, "abc", 4.0)  # an id shorter than 4 characters is found whole
    assert store.resolve("abcd1234") == "abcd1234"
    assert store.resolve("abc") == "abc"
    assert store.resolve("wxyz") == "wxyz0000"
    assert store.get_run("wxyz0").id == "wxyz0000"
    with pytest.raises(RunNotFoundError, match=r"^no run with id 'wxy' in RunStore\('sqlite:///.*runs.db'\)$"):
        store.resolve("wxy")  # a prefix of three characters is not enough
    with pytest.raises(RunNotFoundError, match=r"^run id prefix 'abcd' matches several runs in RunStore\(.*\); "
                                               r"give more characters$"):
        store.resolve("abcd")
    with pytest.raises(RunNotFoundError, match=r"^no run with id 'nope' in "):
        store.resolve("nope")
    for bad in ("", None, 5):
        with pytest.raises(RunNotFoundError, match=r"^run id must be a non-empty str, got "):
            store.resolve(bad)


def test_a_prefix_is_matched_literally(store):
    add_run(store, "ab_d-one", 1.0)
    add_run(store, "abxd-two", 2.0)
    add_run(store, "ab%z-three", 3.0)
    assert store.resolve("ab_d") == "ab_d-one"  # "_" is no wildcard: one match
    assert store.resolve("ab%z") == "ab%z-three"
    with pytest.raises(RunNotFoundError, match=r"^no run with id 'a%%%'"):
        store.resolve("a%%%")


def test_messages_in_delivery_order_of_the_run_or_one_chat(store):
    add_run(store, "run-1", 1.0)
    add_run(store, "run-2", 2.0)
    add(store, schema.messages, message("run-1", "chat-a", "first", 5.0),
        {**message("run-1", "chat-b", "second", 1.0, sender="bob", recipient="alice"), "produced_by": "_reply"},
        message("run-2", "chat-c", "other run", 3.0), message("run-1", "chat-a", "third", 4.0))
    got = store.messages("run-1")
    assert [m.message["content"] for m in got] == ["first", "second", "third"]  # by id, not by time
    assert got[1] == StoredMessage(sender="bob", recipient="alice", message={"content": "second", "role": "user"},
                                   chat_id="chat-b", produced_by="_reply", created_at=1.0)
    assert [m.message["content"] for m in store.messages("run-1", chat_id="chat-a")] == ["first", "third"]
    assert store.messages("run-1", chat_id="chat-c") == []


def test_records_of_each_kind(store):
    add_run(store, "run-1", 1.0)
    add_run(store, "run-2", 2.0)
    chat = {"run_id": "run-1", "sender": "a", "recipient": "b", "status": "finished"}
    add(store, schema.chats, {**chat, "id": "late", "started_at": 9.0}, {**chat, "id": "early", "started_at": 1.0},
        {**chat, "id": "other", "run_id": "run-2", "started_at": 0.0})
    selection = {"run_id": "run-1", "chat_id": "late", "manager": "m", "method": "auto"}
    add(store, schema.speaker_selections, {**selection, "created_at": 5.0, "speaker": "x", "round": 0},
        {**selection, "created_at": 1.0, "speaker": "y", "round": 1})
    assert [c["id"] for c in store.records("run-1", "chats")] == ["early", "late"]  # chats by start
    assert [s["speaker"] for s in store.records("run-1", "speaker_selections")] == ["x", "y"]  # the rest by id
    assert store.records("run-1", "messages") == []
    [first, _] = store.records("run-1", "speaker_selections")
    assert first == {"id": first["id"], **selection, "created_at": 5.0, "speaker": "x", "round": 0}
    with pytest.raises(ValueError, match=r"^kind must be one of messages, model_calls, tool_calls, code_executions, "
                                         r"human_inputs, speaker_selections, side_effects, retrievals, chats; got 'runs'$"):
        store.records("run-1", "runs")
    with pytest.raises(RunNotFoundError):
        store.records("nope", "chats")


def test_export_decodes_json_columns_and_checks_its_format(store):
    add_run(store, "run-1", 1.0, title="hello")
    add(store, schema.messages, message("run-1", "c", "hi", 1.0))
    add(store, schema.side_effects, {"run_id": "run-1", "chat_id": "c", "created_at": 1.0, "agent": "a", "kind": "code",
                                     "position": 1, "digest": "d", "result": json.dumps([0, "out"])})
    add(store, schema.retrievals, {"run_id": "run-1", "chat_id": "c", "created_at": 1.0, "agent": "a", "kind": "memos",
                                   "results": json.dumps([{"id": 1}]), "used": None})
    data = json.loads(store.export("run-1"))
    assert data["run"]["id"] == "run-1" and data["run"]["title"] == "hello"
    assert data["messages"][0]["message"] == {"content": "hi", "role": "user"}
    assert data["side_effects"][0]["result"] == [0, "out"]
    assert data["retrievals"][0]["results"] == [{"id": 1}] and data["retrievals"][0]["used"] is None
    assert data["images"] == [] and data["chats"] == []
    markdown = store.export("run-1", format="md")
    assert markdown.startswith("# Run run-1\n") and "hi" in markdown
    with pytest.raises(ValueError, match=r"^format must be 'json' or 'md', got 'html'$"):
        store.export("run-1", format="html")


def test_forget_speaker_selections_keeps_the_first_of_one_chat(store):
    add_run(store, "run-1", 1.0)
    base = {"run_id": "run-1", "created_at": 1.0, "manager": "m", "method": "auto"}
    add(store, schema.speaker_selections, *({**base, "chat_id": "c1", "speaker": f"s{i}", "round": i} for i in range(4)),
        {**base, "chat_id": "c2", "speaker": "other", "round": 0})
    store.forget_speaker_selections("c1", 2)
    assert [s["speaker"] for s in store.records("run-1", "speaker_selections")] == ["s0", "s1", "other"]
    store.forget_speaker_selections("c1", 5)  # fewer than kept: nothing deleted
    assert len(store.records("run-1", "speaker_selections")) == 3
    store.forget_speaker_selections("c2", 0)
    assert [s["speaker"] for s in store.records("run-1", "speaker_selections")] == ["s0", "s1"]


def test_open_store_takes_a_store_or_opens_an_existing_one(store, store_file, tmp_path):
    assert open_store(store) is store
    opened = open_store(store_file)
    try:
        assert opened is not store and str(store_file) in opened.url
    finally:
        opened.close()
    with pytest.raises(StoreError):
        open_store(tmp_path / "missing.db")  # a reader leaves no empty store behind
    assert not (tmp_path / "missing.db").exists()


def test_repr_hides_a_password():
    store = RunStore.__new__(RunStore)
    store.url = "postgresql+psycopg://user:secret@localhost/db"
    assert repr(store) == "RunStore('postgresql+psycopg://user:***@localhost/db')"


# ---------------------------------------------------------------------------------------- recording

def test_attach_records_the_stream_given_once_and_detach_stops(store):
    stream = events.EventStream()
    assert not store.attached and store.stream is events.default_stream and store.last_run_id is None
    with pytest.raises(StoreError, match=r"^the run store is not recording: use it as a context manager or call "
                                         r"attach\(\) first$"):
        store.require_recorder()
    store.flush()  # not recording: nothing to wait for
    assert store.attach(stream) is store
    first = store.require_recorder()
    assert store.attached and store.stream is stream
    assert store.attach(events.EventStream()) is store and store.require_recorder() is first  # already attached
    assert store.stream is stream
    with store.new_run("run-1"):
        stream.emit(events.ChatStarted(1, "alice", "bob", "hello", None))
    assert store.list_runs()[0].id == "run-1" and store.list_runs()[0].initiator == "alice"
    assert len(stream.sinks) == len(first.sinks)
    store.detach()
    assert not store.attached and store.stream is events.default_stream and stream.sinks == ()
    stream.emit(events.ChatStarted(2, "carol", "dave", "unrecorded", None))  # no sink left on the stream
    store.detach()  # twice: nothing to do
    store.attach(stream)
    store.flush()
    assert [r.initiator for r in store.list_runs()] == ["alice"]
    store.detach()


def test_attach_defaults_to_the_default_stream(store):
    store.attach()
    try:
        assert store.stream is events.default_stream
        with store.new_run("run-1"):
            events.default_stream.emit(events.ChatStarted(1, "alice", "bob", "hello", None))
        assert store.get_run("run-1").initiator == "alice"
    finally:
        store.detach()


def test_an_attached_store_is_flushed_at_exit_until_detached(store, monkeypatch):
    registered: list = []
    monkeypatch.setattr(run_store.atexit, "register", registered.append)
    monkeypatch.setattr(run_store.atexit, "unregister", registered.remove)
    store.attach(events.EventStream())
    assert registered == [store._flush_at_exit]
    store.attach(events.EventStream())  # already attached: registered once
    assert registered == [store._flush_at_exit]
    store.detach()
    assert registered == []


def test_the_exit_flush_detaches(store):
    stream = events.EventStream()
    store.attach(stream)
    store.require_recorder().control("create_run", "run-1", "chat", 1.0)
    store._flush_at_exit()
    assert not store.attached and store.get_run("run-1").status == "running"


def test_a_context_manager_store_is_closed_on_exit(store_file):
    with RunStore(store_file) as store:
        assert store.attached and store.stream is events.default_stream
    assert not store.attached


def test_detach_writes_what_is_pending_and_never_raises(store, caplog):
    store.attach(events.EventStream())
    recorder_ = store.require_recorder()
    recorder_.control("create_run", "run-1", "chat", 1.0)
    store.detach()
    assert store.get_run("run-1").status == "running"
    # A batch the database refuses: logged, not raised, and the writer is stopped all the same.
    store.attach(events.EventStream())
    recorder_ = store.require_recorder()
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE parley_runs")
    recorder_.control("create_run", "run-2", "chat", 2.0)
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        store.detach()
    assert not store.attached and not recorder_._thread.is_alive()


def test_new_run_checks_its_id(store):
    store.attach(events.EventStream())
    try:
        for bad in ("", "x" * 37, "a\x00b", "a\udcffb", 42):
            with pytest.raises(ValueError, match=r"^run_id must be a non-empty str of at most 36 characters, without "
                                                 r"NUL or surrogates, got "):
                store.new_run(bad)
        assert store.new_run("x" * 36).id == "x" * 36 and store.last_run_id == "x" * 36
        with store.new_run("taken"):
            pass
        with pytest.raises(StoreError, match=r"^run 'taken' already exists in RunStore\("):
            store.new_run("taken")
        fresh = store.new_run()
        assert len(fresh.id) == 36 and fresh.id != store.new_run().id and store.last_run_id != fresh.id
        assert fresh.store is store
    finally:
        store.detach()


def test_new_run_needs_a_recording_store(store):
    with pytest.raises(StoreError, match="not recording"), store.new_run("run-1"):
        pass


@pytest.mark.parametrize(("error", "status", "reason"), [
    (None, "finished", None), (KeyboardInterrupt, "interrupted", "interrupted"), (SystemExit, "interrupted", "interrupted"),
    (asyncio.CancelledError, "interrupted", "interrupted"), (RuntimeError, "failed", "error")])
def test_a_new_run_ends_with_how_its_block_ended(store, error, status, reason):
    store.attach(events.EventStream())
    try:
        outer = run_scope.set("outer")
        try:
            with pytest.raises(error) if error else _nothing():
                with store.new_run("run-1") as context:
                    assert context.id == "run-1" and run_scope.get() == "run-1"
                    assert store.get_run("run-1").status == "running"  # made when the block starts
                    if error:
                        raise error
            assert run_scope.get() == "outer"
        finally:
            run_scope.reset(outer)
        info = store.get_run("run-1")  # written when the block ends
        assert (info.status, info.reason) == (status, reason)
        assert info.updated_at >= info.created_at
    finally:
        store.detach()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_run_records_a_call_as_one_run_and_detaches_only_what_it_attached(store):
    stream_before = store.stream
    result = store.run(lambda a, b=0: (a, b, store.attached, run_scope.get()), 1, b=2)
    assert result[:3] == (1, 2, True) and result[3] == store.last_run_id
    assert not store.attached and store.stream is stream_before
    assert store.get_run(store.last_run_id).status == "finished"
    store.attach(events.EventStream())
    try:
        with pytest.raises(RuntimeError):
            store.run(_fail)
        assert store.attached
        assert store.get_run(store.last_run_id).status == "failed"
    finally:
        store.detach()
    with pytest.raises(RuntimeError):
        store.run(_fail)
    assert not store.attached


def _fail():
    raise RuntimeError("boom")


def test_close_detaches_and_disposes_the_engine(store_file):
    store = RunStore(store_file).attach(events.EventStream())
    store.require_recorder().control("create_run", "run-1", "chat", 1.0)
    store.close()
    assert not store.attached
    with store.engine.connect() as connection:  # a disposed engine opens a new pool: the run was written
        assert connection.execute(sa.select(schema.runs.c.status)).scalar() == "running"
    assert store.engine.pool.checkedout() == 0


PNG_URL = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAAAAgAB4iG8MwAAAABJRU5ErkJggg=="


def test_messages_and_exports_show_stored_images_as_their_data_urls(store):
    stream = events.EventStream()
    store.attach(stream)
    try:
        parts = [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": PNG_URL}}]
        with store.new_run("run-1"):
            chat_token = events.current_chat_id.set(None)
            try:
                stream.emit(events.ChatStarted(1, "alice", "bob", "hello", None))
            finally:
                events.current_chat_id.reset(chat_token)
            stream.emit(events.MessageSent("alice", "bob", {"content": parts, "role": "user"}, chat_id=1))
            stream.emit(events.MessageSent("bob", "alice", {"content": [{"type": "text", "text": "no image"}],
                                                            "role": "user"}, chat_id=1))
            stream.emit(events.MessageSent("bob", "alice", {"content": "plain", "role": "user"}, chat_id=1))
        [stored, *_] = store.records("run-1", "messages")
        assert PNG_URL not in stored["message"] and "parley-image:" in stored["message"]  # stored by reference
        got = store.messages("run-1")
        assert [m.message["content"] for m in got] == [parts, [{"type": "text", "text": "no image"}], "plain"]
        assert store.with_images([{"content": "text only"}, "not a dict"]) == [{"content": "text only"}, "not a dict"]
        # Only a dict's list of content parts is looked into, also beside an image.
        mixed = [json.loads(stored["message"]), {"content": "text"}, "not a dict", {"content": None}, None]
        assert store.with_images(mixed) == [{"content": parts, "role": "user"}, *mixed[1:]]
        data = json.loads(store.export("run-1"))
        [image] = data["images"]
        assert image["data_url"] == PNG_URL and image["media_type"] == "image/png"
        assert data["messages"][0]["message"]["content"][1]["image_url"]["url"].startswith("parley-image:")
    finally:
        store.detach()


def test_resume_by_store_or_path_passes_its_options_on(store, store_file):
    from parley.store import ResumeError

    add_run(store, "run-1", 1.0, reason="terminated")
    finished = r"^run run-1 is finished \(terminated\): nothing to resume$"
    with pytest.raises(ResumeError, match=finished):
        store.resume("run-1", [])
    with pytest.raises(ResumeError, match=finished):
        run_store.resume("run-1", [], store=store)
    with pytest.raises(ResumeError, match=finished):
        run_store.resume("run-1", store=str(store_file))  # a path: the store there
    with pytest.raises(ResumeError, match=finished):
        asyncio.run(run_store.a_resume("run-1", [], store=store))
    options = r"^cache, silent: with chat_queue, each chat's options come from its entry"
    with pytest.raises(ResumeError, match=options):
        store.resume("run-1", [], chat_queue=[], cache=object(), silent=True)
    with pytest.raises(ResumeError, match=options):
        run_store.resume("run-1", [], store=store, chat_queue=[], cache=object(), silent=True)


def test_retrievals_come_back_as_their_events_in_order(store):
    add_run(store, "run-1", 1.0)
    base = {"run_id": "run-1", "chat_id": "c", "agent": "teacher"}
    add(store, schema.retrievals,
        {**base, "created_at": 3.0, "kind": "memos", "query": "q", "results": json.dumps([{"id": "m1"}]), "used": None},
        {**base, "created_at": 2.0, "kind": "memo_stored", "query": None,
         "results": json.dumps([{"id": "m2", "input": "in", "output": "out"}]), "used": None})
    memos = events.MemosRecalled(agent="teacher", query="q", memos=[{"id": "m1"}])
    stored = events.MemoStored(agent="teacher", memo_id="m2", input="in", output="out")
    memos.time, stored.time = 3.0, 2.0
    assert store.retrievals("run-") == [memos, stored]  # by id; a prefix resolves too


def test_a_bound_chat_reopens_its_run_now(store):
    add_run(store, "run-1", 1.0, status="interrupted")
    add(store, schema.chats, {"id": "chat-1", "run_id": "run-1", "sender": "a", "recipient": "b", "status": "interrupted",
                              "started_at": 1.0})
    store.attach(events.EventStream())
    try:
        store.bind_chat(9, "run-1", "chat-1")
        store.flush()
        info = store.get_run("run-1")
        assert info.status == "running" and info.updated_at > 1000.0  # the time now, not the stored one
    finally:
        store.detach()


def test_the_agents_given_to_resume_are_passed_on(store):
    from parley.store import ResumeError

    add_run(store, "run-1", 1.0, status="interrupted")
    add(store, schema.chats, {"id": "chat-1", "run_id": "run-1", "sender": "a", "recipient": "b", "status": "interrupted",
                              "started_at": 1.0})
    not_agents = r"^agents must be agents, got int$"  # what these agents get, not a missing list's error
    with pytest.raises(ResumeError, match=not_agents):
        run_store.resume("run-1", [42], store=store)
    with pytest.raises(ResumeError, match=not_agents):
        asyncio.run(run_store.a_resume("run-1", [42], store=store))
    with pytest.raises(ResumeError, match=not_agents):
        store.resume("run-1", [42])
