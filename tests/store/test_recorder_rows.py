"""The recorder event by event: which rows each event makes, column by column, and how a batch
is written (one transaction; row by row when the database refuses a record; the writer's pacing
and lock retries with the clock replaced). Events go straight to a store attached to a stream of
the test's own: no chat runs, so each test takes milliseconds.

The writer here wakes only when asked (a flush, a close, a human-input request or a side effect),
never on its 0.2 s timer: each flush is then exactly one batch, whatever the machine's speed."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import socket
import sqlite3
import uuid

import pytest
import sqlalchemy as sa

from parley import events
from parley.models import secrets
from parley.store import RunStore, StoreError, recorder, schema
from parley.store.recorder import _escaped_rows, _insert_sql, _Pacer, _title, _utc, run_scope, status_of
from parley.store.text import ESCAPED


@pytest.fixture
def store(store_file, monkeypatch):
    monkeypatch.setattr(recorder, "_FLUSH_INTERVAL_S", 3600.0)  # before the writer's first wait
    store = RunStore(store_file).attach(stream=events.EventStream())
    yield store
    store.close()


PNG_URL = "data:image/png;base64," + base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")).decode()  # one pixel


def emit(store: RunStore, event: events.Event, chat: int | None = None, scope: str | None = None) -> events.Event:
    """``event`` emitted to the store's stream as from inside chat ``chat`` (of run scope ``scope``)."""
    chat_token, scope_token = events.current_chat_id.set(chat), run_scope.set(scope)
    try:
        store.stream.emit(event)
    finally:
        events.current_chat_id.reset(chat_token)
        run_scope.reset(scope_token)
    return event


def rows(store: RunStore, table: sa.Table) -> list[dict]:
    """Every row of ``table`` as stored, in the order written, read by a connection of its own (no flush first)."""
    order = {schema.runs: schema.runs.c.created_at, schema.chats: schema.chats.c.started_at}.get(table, table.c.get("id"))
    with store.engine.connect() as connection:
        return [dict(r) for r in connection.execute(sa.select(table).order_by(order)).mappings()]


def row(store: RunStore, table: sa.Table) -> dict:
    [only] = rows(store, table)
    return {k: v for k, v in only.items() if k != "id" or table in (schema.runs, schema.chats)}


def started(store: RunStore, chat: int = 1, parent: int | None = None, scope: str | None = None,
            message: object = "  hello bob\nsecond line", max_turns: int | None = 3) -> events.Event:
    return emit(store, events.ChatStarted(chat, "alice", "bob", message, max_turns), chat=parent, scope=scope)


def test_status_of_each_reason():
    assert status_of("interrupted") == "interrupted"
    assert status_of("error") == "failed"
    for reason in ("terminated", "max_turns", "no_reply", "human_exit", None):
        assert status_of(reason) == "finished"


def test_a_title_is_the_first_line_of_the_first_message_up_to_120_characters():
    assert _title("  first line  \nsecond") == "first line  "  # the message is stripped, not its line
    assert _title({"content": "from a dict\nmore", "role": "user"}) == "from a dict"
    assert _title("x" * 130 + "\ny") == "x" * 120
    assert _title("   ") == ""  # a message of spaces: an empty title, not none
    for nothing in ("", None, {"content": None}, {"role": "user"}, ["a list"], 42):
        assert _title(nothing) is None


def test_times_in_the_classic_log_are_utc_with_microseconds(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+5:30: the machine's own time zone must not show
    time.tzset()
    try:
        assert _utc(0.5) == "1970-01-01 00:00:00.500000"
        assert _utc(86400 * 365 + 3661.25) == "1971-01-01 01:01:01.250000"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_inserts_use_the_drivers_parameter_style():
    from sqlalchemy.dialects import sqlite

    assert _insert_sql(sqlite.dialect(), schema.messages) == (
        "INSERT INTO parley_messages (run_id, chat_id, sender, recipient, message, produced_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)")
    for style in ("format", "pyformat"):
        assert _insert_sql(sqlite.dialect(paramstyle=style), schema.human_inputs) == (
            "INSERT INTO parley_human_inputs (run_id, chat_id, created_at, agent, kind, text) "
            "VALUES (%s, %s, %s, %s, %s, %s)")
    with pytest.raises(StoreError, match=r"^the run store does not support drivers with paramstyle 'named'$"):
        _insert_sql(sqlite.dialect(paramstyle="named"), schema.messages)


def test_only_rows_holding_what_a_database_refuses_are_escaped():
    texts = recorder._TEXTS[schema.human_inputs]  # agent, kind, text (not the ids)
    plain = [("run", "chat", 1.0, "alice", "reply", "hello"), ("run", "chat", 2.0, "bob", "reply", "héllo 😀")]
    assert _escaped_rows(texts, plain) is plain  # nothing to escape: the same list, not a copy
    odd = [("run", "chat", 1.0, "alice", "reply", "a\x00b"), ("run", "chat", 2.0, "bob\udcff", "reply", "fine")]
    assert _escaped_rows(texts, odd) == [("run", "chat", 1.0, "alice", "reply", ESCAPED + "a\\0b"),
                                         ("run", "chat", 2.0, ESCAPED + "bob\\udcff", "reply", "fine")]
    marker = [("run", "chat", 1.0, "alice", "reply", ESCAPED + "x")]
    assert _escaped_rows(texts, marker) == [("run", "chat", 1.0, "alice", "reply", ESCAPED + ESCAPED + "x")]
    # A text column holding something else (a number, None) is looked at value by value.
    mixed = [("run", "chat", 1.0, 7, "reply", "a\udcffb"), ("run", "chat", 2.0, None, "reply", "ok")]
    assert _escaped_rows(texts, mixed) == [("run", "chat", 1.0, 7, "reply", ESCAPED + "a\\udcffb"),
                                           ("run", "chat", 2.0, None, "reply", "ok")]
    assert _escaped_rows(texts, [(1, 2, 3.0, 4, 5, 6)]) == [(1, 2, 3.0, 4, 5, 6)]


def test_a_top_level_chat_is_a_run_with_its_chat_messages_and_model_calls(store):
    start = started(store)
    sent = emit(store, events.MessageSent("alice", "bob", {"content": "hello bob", "role": "user"}, chat_id=1))
    reply = emit(store, events.MessageSent("bob", "alice", {"content": "hi é\udcff", "role": "user"}, chat_id=1,
                                           produced_by="_reply_with_model"))
    call = emit(store, events.ModelCalled("bob", "gpt-x", 11, 7, 0.25, 1.5, cached=1, purpose="summary", chat_id=1), chat=1)
    store.flush()
    run = row(store, schema.runs)
    assert len(run["id"]) == 36 and uuid.UUID(run["id"])
    assert run == {"id": run["id"], "session_id": None, "kind": "chat", "status": "running", "reason": None,
                   "initiator": "alice", "recipient": "bob", "title": "hello bob", "summary": None,
                   "pid": os.getpid(), "host": socket.gethostname(), "created_at": start.time, "updated_at": start.time}
    chat = row(store, schema.chats)
    assert len(chat["id"]) == 32 and int(chat["id"], 16) >= 0
    assert chat == {"id": chat["id"], "run_id": run["id"], "parent_id": None, "sender": "alice", "recipient": "bob",
                    "message": json.dumps("  hello bob\nsecond line"), "max_turns": 3, "status": "running",
                    "reason": None, "summary": None, "started_at": start.time, "finished_at": None}
    stored = [{k: v for k, v in r.items() if k != "id"} for r in rows(store, schema.messages)]
    assert stored == [
        {"run_id": run["id"], "chat_id": chat["id"], "sender": "alice", "recipient": "bob",
         "message": '{"content": "hello bob", "role": "user"}', "produced_by": None, "created_at": sent.time},
        # Not ASCII-escaped: as written (the surrogate through the store's own escape, read back as it was).
        {"run_id": run["id"], "chat_id": chat["id"], "sender": "bob", "recipient": "alice",
         "message": '{"content": "hi é\udcff", "role": "user"}', "produced_by": "_reply_with_model",
         "created_at": reply.time},
    ]
    assert row(store, schema.model_calls) == {
        "run_id": run["id"], "chat_id": chat["id"], "created_at": call.time, "agent": "bob", "model": "gpt-x",
        "prompt_tokens": 11, "completion_tokens": 7, "cost": 0.25, "latency_s": 1.5, "cached": True, "purpose": "summary"}

    finish = emit(store, events.ChatFinished(1, "alice", "bob", "max_turns", summary="all said"))
    emit(store, events.MessageSent("bob", "alice", {"content": "after the end", "role": "user"}, chat_id=1))
    store.flush()
    assert {k: row(store, schema.chats)[k] for k in ("status", "reason", "summary", "finished_at")} == {
        "status": "finished", "reason": "max_turns", "summary": "all said", "finished_at": finish.time}
    run = row(store, schema.runs)
    assert (run["status"], run["reason"], run["summary"], run["created_at"], run["updated_at"]) == (
        "finished", "max_turns", "all said", start.time, finish.time)
    assert len(rows(store, schema.messages)) == 2  # a message after the chat's end belongs to no run


@pytest.mark.parametrize("reason, status", [("error", "failed"), ("interrupted", "interrupted"), ("terminated", "finished")])
def test_a_top_level_chat_leaves_its_run_with_the_status_of_its_end(store, reason, status):
    started(store)
    emit(store, events.ChatFinished(1, "alice", "bob", reason))
    store.flush()
    assert (row(store, schema.runs)["status"], row(store, schema.chats)["status"]) == (status, status)
    assert (row(store, schema.runs)["reason"], row(store, schema.chats)["reason"]) == (reason, reason)


def test_a_message_that_is_no_text_has_no_title_and_a_callable_one_is_not_stored(store):
    started(store, message={"content": "from a dict\nmore", "role": "user", "name": "x"}, max_turns=None)
    started(store, chat=2, message=lambda *a: "made later")
    store.flush()
    first, second = rows(store, schema.chats)
    assert json.loads(first["message"]) == {"content": "from a dict\nmore", "role": "user", "name": "x"}
    assert first["max_turns"] is None
    assert second["message"] is None
    assert [r["title"] for r in rows(store, schema.runs)] == ["from a dict", None]


def test_events_outside_any_chat_are_not_stored(store, caplog):
    emit(store, events.MessageSent("alice", "bob", {"content": "a bare send", "role": "user"}))
    emit(store, events.MessageSent("alice", "bob", {"content": "an unknown chat", "role": "user"}, chat_id=99))
    emit(store, events.ModelCalled("bob", "m", 1, 1, 0.0, 0.1, chat_id=None))
    emit(store, events.ModelCalled("bob", "m", 1, 1, 0.0, 0.1, chat_id=99))
    emit(store, events.ToolCalled("bob", "add", "{}", "3", True))
    emit(store, events.ToolCalled("bob", "add", "{}", "3", True), chat=99)
    emit(store, events.ChatFinished(99, "alice", "bob", "terminated"))
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        store.flush()
    for table in (schema.runs, schema.chats, schema.messages, schema.model_calls, schema.tool_calls):
        assert rows(store, table) == [], table.name
    assert caplog.records == []  # ignored, not skipped as malformed


def test_a_nested_chat_belongs_to_its_parents_run_and_does_not_end_it(store):
    started(store)
    nested = started(store, chat=2, parent=1, message="think")
    emit(store, events.MessageSent("alice", "bob", {"content": "inside", "role": "user"}, chat_id=2))
    emit(store, events.SpeakerSelected("bob", "alice", "auto", 1), chat=2)
    store.flush()
    emit(store, events.ChatFinished(2, "alice", "bob", "error", summary="nested summary"))
    store.flush()  # a batch of one chat update, and nothing else
    [run] = rows(store, schema.runs)
    outer, inner = rows(store, schema.chats)
    assert (inner["run_id"], inner["parent_id"], inner["started_at"]) == (run["id"], outer["id"], nested.time)
    assert (inner["status"], inner["reason"], inner["summary"]) == ("failed", "error", "nested summary")
    # The run goes on: a nested chat's end and its speaker selections are not the run's.
    assert (run["kind"], run["status"], run["reason"], run["summary"], run["title"]) == (
        "chat", "running", None, None, "hello bob")
    [message] = rows(store, schema.messages)
    assert (message["run_id"], message["chat_id"]) == (run["id"], inner["id"])


def test_speaker_selections_make_a_top_level_chat_a_group_chat(store):
    started(store)
    selected = emit(store, events.SpeakerSelected("manager", "carol", "round_robin", 4), chat=1)
    store.flush()
    run, chat = row(store, schema.runs), row(store, schema.chats)
    assert run["kind"] == "group_chat"
    assert row(store, schema.speaker_selections) == {
        "run_id": run["id"], "chat_id": chat["id"], "created_at": selected.time, "manager": "manager",
        "speaker": "carol", "method": "round_robin", "round": 4}


def test_chats_of_a_new_run_share_it_the_first_naming_it_later_ones_making_it_sequential(store):
    context = store.new_run("run-of-three")
    with context:
        first = started(store, scope="run-of-three")
        store.flush()
        run = row(store, schema.runs)
        assert run == {"id": "run-of-three", "session_id": None, "kind": "chat", "status": "running", "reason": None,
                       "initiator": "alice", "recipient": "bob", "title": "hello bob", "summary": None,
                       "pid": os.getpid(), "host": socket.gethostname(), "created_at": run["created_at"],
                       "updated_at": first.time}
        # A finished chat leaves the run running: more chats may come.
        emit(store, events.ChatFinished(1, "alice", "bob", "terminated", summary="one"))
        emit(store, events.ChatStarted(2, "carol", "dave", "second chat", None), scope="run-of-three")
        store.flush()
        run = row(store, schema.runs)
        assert (run["kind"], run["status"], run["reason"], run["summary"]) == ("sequential", "running", "terminated", "one")
        assert (run["initiator"], run["recipient"], run["title"]) == ("alice", "bob", "hello bob")
        # A chat that fails does end it.
        emit(store, events.ChatFinished(2, "carol", "dave", "error"))
        store.flush()
        assert (row(store, schema.runs)["status"], row(store, schema.runs)["reason"]) == ("failed", "error")
    run = row(store, schema.runs)
    # finish_run without a reason leaves the last chat's.
    assert (run["status"], run["reason"]) == ("finished", "error") and run["updated_at"] >= run["created_at"]
    assert {c["run_id"] for c in rows(store, schema.chats)} == {"run-of-three"}


def test_finish_run_records_its_status_reason_and_time(store):
    recorder_ = store.require_recorder()
    recorder_.control("create_run", "r1", "chat", 10.0)
    store.flush()  # a batch of one new run, and nothing else
    assert {k: v for k, v in row(store, schema.runs).items() if k not in ("pid", "host")} == {
        "id": "r1", "session_id": None, "kind": "chat", "status": "running", "reason": None, "initiator": None,
        "recipient": None, "title": None, "summary": None, "created_at": 10.0, "updated_at": 10.0}
    recorder_.control("finish_run", "r1", "interrupted", "interrupted", 12.5)
    store.flush()
    run = row(store, schema.runs)
    assert (run["status"], run["reason"], run["created_at"], run["updated_at"]) == ("interrupted", "interrupted", 10.0, 12.5)


def test_a_finished_new_run_resumed_in_this_process_is_ended_by_its_chat(store):
    with pytest.raises(RuntimeError), store.new_run("r1"):
        started(store, scope="r1")
        emit(store, events.ChatFinished(1, "alice", "bob", "error"))
        raise RuntimeError("the chat failed")
    assert row(store, schema.runs)["status"] == "failed"
    # No longer a run that waits for more chats: its resumed chat's end is the run's.
    store.bind_chat(9, "r1", row(store, schema.chats)["id"])
    emit(store, events.ChatFinished(9, "alice", "bob", "terminated"))
    store.flush()
    assert (row(store, schema.runs)["status"], row(store, schema.runs)["reason"]) == ("finished", "terminated")


def test_finish_run_ends_any_run(store, caplog):
    started(store)  # a run of its own, not made by new_run
    emit(store, events.ChatFinished(1, "alice", "bob", "error"))
    store.flush()
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        store.finish_run(row(store, schema.runs)["id"], "interrupted", None)
        store.flush()
    assert caplog.records == []
    assert (row(store, schema.runs)["status"], row(store, schema.runs)["reason"]) == ("interrupted", "error")


def test_a_continued_run_counts_its_stored_chats(store):
    recorder_ = store.require_recorder()
    recorder_.control("create_run", "r2", "chat", 10.0)
    started(store, scope="r2")
    emit(store, events.ChatFinished(1, "alice", "bob", "terminated"))
    store.finish_run("r2", "failed", "error")
    store.flush()
    store.continue_run("r2", 1)  # as resuming sequential chats does: the next chat is the second
    emit(store, events.ChatStarted(2, "carol", "dave", "next", None), scope="r2")
    emit(store, events.ChatFinished(2, "carol", "dave", "terminated"))
    store.flush()
    run = row(store, schema.runs)
    assert (run["kind"], run["initiator"], run["status"]) == ("sequential", "alice", "running")


def test_a_bound_chat_records_into_its_stored_run_and_chat(store):
    started(store)
    emit(store, events.ChatFinished(1, "alice", "bob", "error", summary="broken"))
    store.flush()
    run, chat = row(store, schema.runs), row(store, schema.chats)
    with store.engine.begin() as connection:  # another process wrote it
        connection.execute(schema.runs.update().values(pid=1, host="elsewhere"))
    bound_at = run["updated_at"] + 100.0
    store.require_recorder().control("bind", 7, run["id"], chat["id"], bound_at)  # store.bind_chat at a time of our own
    started(store, chat=7)  # the resumed chat announces itself: it is already bound
    emit(store, events.MessageSent("bob", "alice", {"content": "resumed", "role": "user"}, chat_id=7))
    store.flush()
    run, chat = row(store, schema.runs), row(store, schema.chats)
    assert (run["status"], run["reason"], run["pid"], run["host"]) == ("running", None, os.getpid(), socket.gethostname())
    assert (run["updated_at"], run["summary"]) == (bound_at, "broken")
    assert (chat["status"], chat["reason"], chat["finished_at"], chat["summary"]) == ("running", None, None, "broken")
    [message] = rows(store, schema.messages)
    assert (message["run_id"], message["chat_id"]) == (run["id"], chat["id"])
    emit(store, events.ChatFinished(7, "alice", "bob", "terminated", summary="fixed"))
    store.flush()
    assert (row(store, schema.runs)["status"], row(store, schema.runs)["summary"]) == ("finished", "fixed")
    assert len(rows(store, schema.runs)) == 1 and len(rows(store, schema.chats)) == 1


def test_tool_calls_code_executions_and_retrievals_are_stored_column_by_column(store):
    started(store)
    tool_text = emit(store, events.ToolCalled("bob", "add", '{"x": 1}', "2", True, 0.5, "call_1"), chat=1)
    tool_json = emit(store, events.ToolCalled("bob", "add", {"x": "é"}, {"sum": 2}, 0, tool_call_id=None), chat=1)
    code = emit(store, events.CodeExecuted("bob", "python", "print(1)", 0, "1\n", "LocalCommandLineCodeExecutor", 2.5),
                chat=1)
    docs = emit(store, events.DocumentsRetrieved("bob", "what is x", "notes", [{"id": "d1", "distance": 0.5}], ["d1#0"]),
                chat=1)
    memos = emit(store, events.MemosRecalled("bob", "recall", [{"id": "m1"}]), chat=1)
    memo = emit(store, events.MemoStored("bob", "m2", "in", "out"), chat=1)
    store.flush()
    run_id, key = row(store, schema.runs)["id"], row(store, schema.chats)["id"]
    assert [{k: v for k, v in r.items() if k != "id"} for r in rows(store, schema.tool_calls)] == [
        {"run_id": run_id, "chat_id": key, "created_at": tool_text.time, "agent": "bob", "tool": "add",
         "tool_call_id": "call_1", "arguments": '{"x": 1}', "result": "2", "ok": True, "latency_s": 0.5},
        {"run_id": run_id, "chat_id": key, "created_at": tool_json.time, "agent": "bob", "tool": "add",
         "tool_call_id": None, "arguments": '{"x": "é"}', "result": '{"sum": 2}', "ok": False, "latency_s": 0.0},
    ]
    assert row(store, schema.code_executions) == {
        "run_id": run_id, "chat_id": key, "created_at": code.time, "agent": "bob", "language": "python",
        "code": "print(1)", "exit_code": 0, "output": "1\n", "executor": "LocalCommandLineCodeExecutor", "latency_s": 2.5}
    assert [{k: v for k, v in r.items() if k != "id"} for r in rows(store, schema.retrievals)] == [
        {"run_id": run_id, "chat_id": key, "created_at": docs.time, "agent": "bob", "kind": "documents",
         "query": "what is x", "collection": "notes", "results": '[{"id": "d1", "distance": 0.5}]', "used": '["d1#0"]'},
        {"run_id": run_id, "chat_id": key, "created_at": memos.time, "agent": "bob", "kind": "memos",
         "query": "recall", "collection": None, "results": '[{"id": "m1"}]', "used": None},
        {"run_id": run_id, "chat_id": key, "created_at": memo.time, "agent": "bob", "kind": "memo_stored",
         "query": None, "collection": None, "results": '[{"id": "m2", "input": "in", "output": "out"}]', "used": None},
    ]


def test_a_human_input_request_is_stored_before_the_question_is_asked(store):
    started(store)
    store.flush()
    asked = emit(store, events.HumanInputRequested("alice", "Your answer?"), chat=1)
    # No flush: the request is committed by the time the event is delivered.
    run, chat = row(store, schema.runs), row(store, schema.chats)
    assert (run["status"], run["updated_at"]) == ("waiting_input", asked.time)
    assert row(store, schema.human_inputs) == {"run_id": run["id"], "chat_id": chat["id"], "created_at": asked.time,
                                               "agent": "alice", "kind": "request", "text": "Your answer?"}
    answered = emit(store, events.HumanInputReceived("alice", "yes"), chat=1)
    store.flush()
    assert (row(store, schema.runs)["status"], row(store, schema.runs)["updated_at"]) == ("running", answered.time)
    assert {k: v for k, v in rows(store, schema.human_inputs)[1].items() if k != "id"} == {
        "run_id": run["id"], "chat_id": chat["id"], "created_at": answered.time, "agent": "alice", "kind": "reply",
        "text": "yes"}


def test_a_side_effect_is_stored_before_its_result_is_used(store):
    started(store)
    effect = emit(store, events.SideEffectRecorded("bob", "code", 4, "ab" * 32, {"exit_code": 0, "output": "é"}), chat=1)
    run, chat = row(store, schema.runs), row(store, schema.chats)
    assert row(store, schema.side_effects) == {
        "run_id": run["id"], "chat_id": chat["id"], "created_at": effect.time, "agent": "bob", "kind": "code",
        "position": 4, "digest": "ab" * 32, "result": '{"exit_code": 0, "output": "é"}'}


def test_a_side_effect_that_cannot_be_stored_is_logged_and_the_chat_goes_on(store, caplog):
    started(store)
    store.flush()
    store.require_recorder()._engine = sa.create_engine(f"sqlite:///{store.engine.url.database}.missing/x.db")
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        emit(store, events.SideEffectRecorded("bob", "tool", 2, "cd" * 32, {"result": "3"}), chat=1)  # does not raise
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage().startswith("run store: a tool result of bob could not be stored: "
                                           "the run store could not write: ")
    assert "unable to open database file" in warning.getMessage()
    assert "a batch could not be written" in caplog.text  # the writer's own error, logged once


def test_a_batch_that_cannot_be_written_fails_the_flush_waiting_for_it_only(store, caplog):
    started(store)
    good = store.require_recorder()._engine
    store.require_recorder()._engine = sa.create_engine(f"sqlite:///{store.engine.url.database}.missing/x.db")
    with caplog.at_level(logging.ERROR, logger="parley.store"), pytest.raises(StoreError) as failed:
        store.flush()
    assert str(failed.value).startswith("the run store could not write: ")
    assert "unable to open database file" in str(failed.value)
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    # The driver's own words, for the batch and for the first try before it (not SQLAlchemy's wrapping).
    assert error.getMessage() == ("run store: a batch could not be written: unable to open database file "
                                  "(first: unable to open database file)")
    assert "unable to open database file" in str(store.require_recorder().error)
    store.require_recorder()._engine = good
    emit(store, events.ChatFinished(1, "alice", "bob", "terminated"))
    store.flush()  # a later batch is written: only the lost one's flush failed
    assert rows(store, schema.runs) == [] and rows(store, schema.chats) == []  # the first batch is gone


def test_a_record_the_database_refuses_costs_only_itself(store, caplog):
    """One batch of every kind of write, one of its tool calls refused by the database: the rest
    is written row by row, each kind of row included."""
    assert (store.require_recorder().error, store.require_recorder().skipped) == (None, 0)
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON parley_tool_calls WHEN NEW.result LIKE '%poison%' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned record refused'); END")
    started(store)
    emit(store, events.MessageSent("alice", "bob", {"role": "user", "content": [
        {"type": "text", "text": "look"}, {"type": "image_url", "image_url": {"url": PNG_URL}}]},
        chat_id=1))
    emit(store, events.ToolCalled("bob", "t", "{}", "fine", True), chat=1)
    emit(store, events.ToolCalled("bob", "t", "{}", "poison", True), chat=1)
    emit(store, events.ToolCalled("bob", "t", "{}", "also fine", True), chat=1)
    emit(store, events.ToolCalled("bob", "t", "{}", "poison again", True), chat=1)
    emit(store, events.SpeakerSelected("m", "bob", "auto", 1), chat=1)  # a run update
    emit(store, events.ChatFinished(1, "alice", "bob", "terminated", summary="done"))  # a chat update
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        store.flush()  # does not raise
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "run store: skipped a record of parley_tool_calls the database refused: poisoned record refused"] * 2
    assert store.require_recorder().skipped == 2
    assert str(store.require_recorder().error) == "poisoned record refused"
    assert [r["result"] for r in rows(store, schema.tool_calls)] == ["fine", "also fine"]
    run, chat = row(store, schema.runs), row(store, schema.chats)
    assert (run["kind"], run["status"], chat["status"], chat["summary"]) == ("group_chat", "finished", "finished", "done")
    [image] = rows(store, schema.images)
    [message] = rows(store, schema.messages)
    assert image["digest"] in message["message"] and "base64" not in message["message"]
    # The image is known to be written: the same image later is not written again.
    started(store, chat=2)
    emit(store, events.MessageSent("alice", "bob", {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": PNG_URL}}]}, chat_id=2))
    store.flush()
    assert len(rows(store, schema.images)) == 1 and len(rows(store, schema.messages)) == 2


def test_a_malformed_event_is_skipped_and_the_rest_of_its_batch_is_written(store, caplog):
    started(store)
    emit(store, events.MessageSent("alice", "bob", "not a dict", chat_id=1))  # type: ignore[arg-type]
    emit(store, events.ChatStarted([2], "x", "y"))  # type: ignore[arg-type]  # an unhashable chat id
    emit(store, events.MessageSent("alice", "bob", {"content": "fine", "role": "user"}, chat_id=1))
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        store.flush()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [w.split(":")[0] + ":" + w.split(":")[1] for w in warnings] == [
        "run store: skipped MessageSent", "run store: skipped ChatStarted"]
    assert warnings[0] == "run store: skipped MessageSent: 'str' object has no attribute 'get'"
    assert warnings[1] == "run store: skipped ChatStarted: unhashable type: 'list'"
    assert [json.loads(r["message"])["content"] for r in rows(store, schema.messages)] == ["fine"]
    assert len(rows(store, schema.chats)) == 1


def test_model_calls_are_logged_in_full_only_in_a_runtime_logging_session(tmp_path, monkeypatch, empty_store):
    monkeypatch.setattr(recorder, "_FLUSH_INTERVAL_S", 3600.0)
    key = f"key-{uuid.uuid4().hex}"  # fresh each run: redaction remembers keys for the process
    secrets.remember([key])
    session = str(uuid.uuid4())
    for session_id in (None, session):
        shutil.copyfile(empty_store, tmp_path / f"runs-{session_id}.db")
        store = RunStore(tmp_path / f"runs-{session_id}.db", session_id=session_id).attach(stream=events.EventStream())
        try:
            start = started(store)
            prompt = [{"role": "user", "content": "hi"}]
            outside = emit(store, events.ModelCallLogged("bob", "gpt-x", prompt, {"temperature": 0.5, "key": key}, None,
                                                         {"role": "assistant", "content": f"said {key}"}, 3, 2, 0.125, 1.25))
            with_image = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG_URL}}]}]
            inside = emit(store, events.ModelCallLogged(
                "bob", "gpt-y", with_image, {}, [{"type": "function", "function": {"name": "f"}}],
                {"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]}, 5, 0, 0.0, 0.5, cached=True), chat=1)
            store.flush()
            run, chat = row(store, schema.runs), row(store, schema.chats)
            completions = rows(store, schema.chat_completions)
            images = rows(store, schema.images)
        finally:
            store.close()
        assert run["session_id"] == session_id and run["created_at"] == start.time
        if session_id is None:
            assert completions == []
            continue
        first, second = completions
        assert first["invocation_id"] != second["invocation_id"]
        assert {k: v for k, v in first.items() if k not in ("id", "request", "response")} == {
            "invocation_id": first["invocation_id"], "client_id": None, "wrapper_id": None, "session_id": session,
            "source_name": "bob", "is_cached": 0, "cost": 0.125, "start_time": _utc(outside.time - 1.25),
            "end_time": _utc(outside.time), "run_id": None, "chat_id": None}
        assert key not in first["request"] and key not in first["response"]
        assert json.loads(first["request"]) == {"model": "gpt-x", "messages": prompt, "temperature": 0.5,
                                                "key": secrets.MASK}
        assert json.loads(first["response"]) == {
            "id": first["invocation_id"], "object": "chat.completion", "created": int(outside.time), "model": "gpt-x",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"said {secrets.MASK}"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}, "cost": 0.125}
        assert (second["is_cached"], second["run_id"], second["chat_id"]) == (1, run["id"], chat["id"])
        assert (second["start_time"], second["end_time"]) == (_utc(inside.time - 0.5), _utc(inside.time))
        request, response = json.loads(second["request"]), json.loads(second["response"])
        # The image by reference: stored once, in parley_images.
        [image] = images
        reference = {"type": "image_url", "image_url": {"url": f"parley-image:{image['digest']}"}}
        stored_prompt = [{"role": "user", "content": [reference]}]
        assert request == {"model": "gpt-y", "messages": stored_prompt,
                           "tools": [{"type": "function", "function": {"name": "f"}}]}
        assert response["choices"][0]["finish_reason"] == "tool_calls"
        assert response["usage"] == {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5}


def test_a_flush_waits_for_the_write_and_says_when_it_gave_up(store):
    started(store)
    blocker = sqlite3.connect(store.engine.url.database, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with pytest.raises(StoreError, match=r"^the run store did not finish writing within 0.05 s$"):
            store.require_recorder().flush(timeout=0.05)
        assert rows(store, schema.runs) == []
    finally:
        blocker.rollback()
        blocker.close()
    store.flush()
    assert len(rows(store, schema.runs)) == 1


def test_closing_writes_what_is_pending_and_a_closed_recorder_flushes_nothing(store):
    writer = store.require_recorder()
    started(store)
    writer.close()  # no flush first
    assert len(rows(store, schema.runs)) == 1 and not writer._thread.is_alive()
    writer.flush()  # returns: there is nothing left to wait for
    writer.close()


def test_the_writer_waits_for_a_pause_in_the_events_up_to_half_a_second():
    pacer = _Pacer()
    # The first items seen wait for a pause too; the log stopped growing between two looks: written.
    assert not pacer.due(2, False, 20.0)
    assert pacer.due(2, False, 20.2)
    assert pacer.due(3, True, 25.0)  # asked (a flush, a close): at once
    # Still growing: held back while it keeps growing, up to 0.5 s after it was first seen.
    assert not pacer.due(1, False, 30.0)
    assert not pacer.due(2, False, 30.2)
    assert not pacer.due(3, False, 30.49)
    assert pacer.due(4, False, 30.5)
    # Written: the next items are timed from when they are first seen.
    assert not pacer.due(1, False, 31.0)
    assert not pacer.due(2, False, 31.4)
    assert pacer.due(3, False, 31.5)
    assert not pacer.due(1, False, 40.0)
    assert pacer.due(5, True, 40.1)  # asked while growing
    assert not pacer.due(1, False, 40.2)


def test_a_locked_database_is_tried_again_with_growing_pauses_for_two_minutes(store, monkeypatch):
    clock = [1000.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(recorder, "_monotonic", lambda: clock[0])
    monkeypatch.setattr(recorder, "_sleep", sleep)
    writer = store.require_recorder()
    locked = sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    attempts = []

    def write(connection):
        attempts.append(connection)
        if len(attempts) <= 9:
            raise locked
        connection.exec_driver_sql("INSERT INTO parley_runs (id, kind, status, created_at, updated_at) "
                                   "VALUES ('r', 'chat', 'running', 1, 1)")

    writer._transaction(write)
    assert pauses == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.0, 1.0]
    assert len(rows(store, schema.runs)) == 1
    # Locked for good: given up once two minutes have passed, with the lock error.
    pauses.clear()
    busy = sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database is busy"))

    def always_locked(connection):
        raise busy

    with pytest.raises(sa.exc.OperationalError, match="database is busy"):
        writer._transaction(always_locked)
    assert 120.0 <= sum(pauses) < 121.0
    assert max(pauses) == 1.0
    # Any other error at once.
    pauses.clear()
    broken = sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("disk I/O error"))

    def failing(connection):
        raise broken

    with pytest.raises(sa.exc.OperationalError, match="disk I/O error"):
        writer._transaction(failing)
    assert pauses == []


def test_a_table_gone_costs_only_its_records(store, caplog):
    with store.engine.begin() as connection:  # another program, a bad migration
        connection.exec_driver_sql("DROP TABLE parley_code_executions")
    started(store)
    emit(store, events.CodeExecuted("bob", "sh", "ls", 0, "", "local"), chat=1)
    emit(store, events.MessageSent("alice", "bob", {"content": "kept", "role": "user"}, chat_id=1))
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        store.flush()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == [
        "run store: skipped a record of parley_code_executions the database refused: no such table: parley_code_executions"]
    assert len(rows(store, schema.messages)) == 1 and len(rows(store, schema.chats)) == 1


def test_writes_take_the_write_lock_when_they_begin(store):
    # BEGIN IMMEDIATE: two writers queue on the busy timeout instead of failing on a lock upgrade.
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda _c, _cursor, sql, *_: statements.append(sql))
    started(store)
    store.flush()
    assert statements[0] == "BEGIN IMMEDIATE" and statements[1].startswith("INSERT INTO parley_runs ")


def test_a_batch_is_one_transaction_one_insert_per_table(store):
    """What the database takes is written in one go: no second try row by row (which would store
    the same, far slower), and an image already written is not written again."""
    started(store, chat=1)
    started(store, chat=2, parent=1)
    store.flush()
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda _c, _cursor, sql, *_: statements.append(sql))
    image = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG_URL}}]}
    started(store, chat=3)
    for chat in (1, 3):
        emit(store, events.MessageSent("alice", "bob", image, chat_id=chat))
        emit(store, events.ToolCalled("bob", "t", "{}", "r", True), chat=chat)
    emit(store, events.ChatFinished(2, "alice", "bob", "terminated"))  # a chat update
    emit(store, events.SpeakerSelected("m", "bob", "auto", 1), chat=1)  # a run update
    emit(store, events.ChatFinished(3, "alice", "bob", "terminated"))  # both
    store.flush()
    tables = [sql.split()[1 if sql.startswith("UPDATE") else 2] for sql in statements[1:]]
    assert statements[0] == "BEGIN IMMEDIATE" and "BEGIN IMMEDIATE" not in statements[1:]
    assert not any("SAVEPOINT" in sql for sql in statements)
    assert sorted(tables) == sorted(["parley_images", "parley_runs", "parley_chats", "parley_messages", "parley_tool_calls",
                                     "parley_speaker_selections", "parley_runs", "parley_runs", "parley_chats", "parley_chats"])
    assert len(rows(store, schema.messages)) == 2 and len(rows(store, schema.tool_calls)) == 2
    assert [c["status"] for c in rows(store, schema.chats)] == ["running", "finished", "finished"]
    statements.clear()
    started(store, chat=4)
    emit(store, events.MessageSent("alice", "bob", image, chat_id=4))
    store.flush()
    assert not any("parley_images" in sql for sql in statements)


def test_the_writer_is_one_daemon_thread_that_writes_on_its_own(store_file, monkeypatch):
    import threading
    import time

    monkeypatch.setattr(recorder, "_FLUSH_INTERVAL_S", 0.01)
    store = RunStore(store_file).attach(stream=events.EventStream())
    try:
        writer = store.require_recorder()._thread
        assert writer in threading.enumerate() and writer.name == "parley-run-recorder"
        assert writer.daemon  # a store never closed does not keep the program from exiting
        started(store)
        for _ in range(3000):  # no flush: written after a pause in the events (waits 30 s at most)
            if rows(store, schema.runs):
                break
            time.sleep(0.01)
        assert len(rows(store, schema.runs)) == 1
    finally:
        store.close()
    assert not writer.is_alive()


def test_a_write_that_fails_with_an_error_of_no_database_fails_its_flush_too(store, caplog):
    def no_database():
        raise RuntimeError("no database today")

    started(store)
    store.require_recorder()._engine = sa.create_engine("sqlite://", creator=no_database)
    with caplog.at_level(logging.ERROR, logger="parley.store"), pytest.raises(StoreError) as failed:
        store.flush()
    assert str(failed.value) == "the run store could not write: no database today"
    assert [r.getMessage() for r in caplog.records] == [
        "run store: a batch could not be written: no database today (first: no database today)"]


def test_each_kind_of_record_the_database_refuses_is_named(store, caplog):
    with store.engine.begin() as connection:
        for table, when, event in (("parley_images", "1", "INSERT"), ("parley_runs", "NEW.title = 'poison'", "INSERT"),
                                   ("parley_chats", "NEW.message LIKE '%poison%'", "INSERT"),
                                   ("parley_runs", "NEW.summary = 'poison'", "UPDATE"),
                                   ("parley_chats", "NEW.summary = 'poison'", "UPDATE")):
            connection.exec_driver_sql(
                f"CREATE TRIGGER refuse_{table}_{event} BEFORE {event} ON {table} WHEN {when} "
                f"BEGIN SELECT RAISE(ABORT, '{event.lower()} refused'); END")
    started(store)
    emit(store, events.MessageSent("alice", "bob", {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": PNG_URL}}]}, chat_id=1))
    started(store, chat=2, message="poison")
    emit(store, events.ChatFinished(1, "alice", "bob", "terminated", summary="poison"))
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        store.flush()
    assert [r.getMessage() for r in caplog.records] == [
        f"run store: skipped a record of {table} the database refused: {event} refused"
        for table, event in (("parley_images", "insert"), ("parley_runs", "insert"), ("parley_chats", "insert"),
                             ("parley_runs", "update"), ("parley_chats", "update"))]
    assert len(rows(store, schema.messages)) == 1 and [r["title"] for r in rows(store, schema.runs)] == ["hello bob"]
