"""The classic runtime_logging API on the run store and the file logger."""

from __future__ import annotations

import json
import sqlite3

import pytest

from parley import runtime_logging
from parley.store import RunStore

from .test_store import SECRET, pair


def test_sqlite_logging_records_chats_under_the_session(tmp_path):
    db = tmp_path / "logs.db"
    session_id = runtime_logging.start(logger_type="sqlite", config={"dbname": str(db)})
    try:
        assert runtime_logging.logging_enabled() and runtime_logging.get_session_id() == session_id
        a, b = pair()
        a.initiate_chat(b, message="logged", silent=True)
    finally:
        runtime_logging.stop()
    assert not runtime_logging.logging_enabled()
    store = RunStore(db)
    [run] = store.list_runs()
    assert run.title == "logged" and run.status == "finished"
    assert store.records(run.id, "model_calls")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT session_id FROM parley_runs").scalar() == session_id
    store.close()


def test_file_logging_writes_json_lines_without_secrets(tmp_path):
    log = tmp_path / "runtime.log"
    session_id = runtime_logging.start(logger_type="file", config={"filename": str(log)})
    try:
        a, b = pair(api_key=SECRET)
        a.initiate_chat(b, message="to the file", silent=True)
    finally:
        runtime_logging.stop()
    records = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = [r["event"] for r in records]
    # The agents and their model wrappers, made in the session, come first (classic's log_new_*).
    assert kinds[:4] == ["new_wrapper", "new_agent", "new_wrapper", "new_agent"]
    assert kinds[4] == "ChatStarted" and kinds[-1] == "ChatFinished"
    assert "ModelCalled" in kinds and "MessageSent" in kinds
    assert {r["session_id"] for r in records} == {session_id}
    assert SECRET not in log.read_text()


def test_bad_logging_config_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="logger_type must be 'sqlite', 'file' or 'otel', got 'mongo'"):
        runtime_logging.start(logger_type="mongo")
    with pytest.raises(ValueError, match="config\\['filename'\\]"):
        runtime_logging.start(logger_type="file", config={"filename": str(tmp_path / "missing" / "dir" / "x.log")})
    assert not runtime_logging.logging_enabled()
    runtime_logging.start(logger_type="file", config={"filename": str(tmp_path / "a.log")})
    try:
        with pytest.raises(RuntimeError, match="already started"):
            runtime_logging.start(logger_type="file", config={"filename": str(tmp_path / "b.log")})
    finally:
        runtime_logging.stop()


def test_sqlite_logging_fills_the_classic_chat_completions_table(tmp_path):
    db = tmp_path / "logs.db"
    session_id = runtime_logging.start(logger_type="sqlite", config={"dbname": str(db)})
    try:
        a, b = pair(api_key=SECRET)
        result = a.initiate_chat(b, message="logged in full", silent=True)
        a.client.create(messages=[{"role": "user", "content": "outside any chat"}], agent=a)  # classic, sync
    finally:
        runtime_logging.stop()
    # Read the way classic AutoGen's logging notebook does: plain sqlite3, the classic table name.
    connection = sqlite3.connect(db)
    cursor = connection.execute("SELECT * FROM chat_completions ORDER BY id")
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, row)) for row in cursor.fetchall()]
    connection.close()
    assert columns[:11] == ["id", "invocation_id", "client_id", "wrapper_id", "session_id", "request", "response",
                            "is_cached", "cost", "start_time", "end_time"]
    replies = [m["content"] for m in result.chat_history[1:]]
    assert len(rows) == len(replies) + 1  # every model call of the chat, and the one outside it
    for row, reply in zip(rows, replies + ["A 1"]):
        request, response = json.loads(row["request"]), json.loads(row["response"])
        assert response["choices"][0]["message"]["content"] == reply
        assert response["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        assert request["model"] == "scripted" and request["messages"][-1]["role"] == "user"
        assert (row["session_id"], row["is_cached"], row["cost"]) == (session_id, 0, 0.01)
        assert row["start_time"] <= row["end_time"] and len(row["end_time"]) == len("2026-01-01 00:00:00.000000")
    assert rows[0]["source_name"] == "bob" and json.loads(rows[0]["request"])["messages"][-1]["content"] == "logged in full"
    assert json.loads(rows[-1]["request"])["messages"] == [{"role": "user", "content": "outside any chat"}]
    assert SECRET.encode() not in db.read_bytes()


def test_get_connection_reads_what_was_logged_so_far(tmp_path):
    assert runtime_logging.get_connection() is None  # no session
    runtime_logging.start(logger_type="sqlite", config={"dbname": str(tmp_path / "logs.db")})
    try:
        a, b = pair()
        a.initiate_chat(b, message="count me", max_turns=1, silent=True)
        connection = runtime_logging.get_connection()
        try:
            assert connection.execute("SELECT COUNT(*) FROM chat_completions").fetchone()[0] == 1
        finally:
            connection.close()
    finally:
        runtime_logging.stop()


def test_the_chat_completions_view_on_both_backends(store_url):
    runtime_logging.start(logger_type="sqlite", config={"url": store_url})
    try:
        a, b = pair()
        result = a.initiate_chat(b, message="on any database", max_turns=2, silent=True)
    finally:
        runtime_logging.stop()
    store = RunStore(store_url)
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT source_name, response FROM chat_completions ORDER BY id").all()
    store.close()
    assert [(name, json.loads(response)["choices"][0]["message"]["content"]) for name, response in rows] == [
        (m["name"], m["content"]) for m in result.chat_history[1:]]


def test_without_a_logging_session_the_store_keeps_no_full_model_calls(sqlite_url):
    with RunStore(sqlite_url) as store:
        a, b = pair()
        a.initiate_chat(b, message="figures only", max_turns=1, silent=True)
        store.flush()
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM chat_completions").scalar() == 0
            assert connection.exec_driver_sql("SELECT COUNT(*) FROM parley_model_calls").scalar() == 1
