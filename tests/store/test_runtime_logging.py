"""The classic runtime_logging API on the run store and the file logger."""

from __future__ import annotations

import json

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
    assert kinds[0] == "ChatStarted" and kinds[-1] == "ChatFinished"
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
