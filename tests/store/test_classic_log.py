"""The classic runtime-log tables written by runtime_logging.log_* (agents, oai_wrappers, oai_clients,
function_calls, events, chat_completions): what classic code reads back, and never a secret."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest

from parley import AssistantAgent, OpenAIWrapper, runtime_logging

from .test_store import SECRET, echo_config


class FakeClient:
    pass


@pytest.fixture
def session(tmp_path):
    db = tmp_path / "logs.db"
    session_id = runtime_logging.start(logger_type="sqlite", config={"dbname": str(db)})
    yield db, session_id
    runtime_logging.stop()


def rows(query: str) -> list[sqlite3.Row]:
    connection = runtime_logging.get_connection()
    connection.row_factory = sqlite3.Row
    try:
        return list(connection.cursor().execute(query))
    finally:
        connection.close()


def test_agents_and_wrappers_made_in_a_session_are_logged_without_secrets(session):
    db, session_id = session
    config = echo_config("A", api_key=SECRET)
    config["config_list"][0]["base_url"] = "https://user:pw@example.invalid/v1"
    agent = AssistantAgent("helper", llm_config=config)
    [row] = rows("SELECT agent_id, session_id, name, class, init_args FROM agents")
    assert (row["agent_id"], row["session_id"], row["name"], row["class"]) == (id(agent), session_id, "helper", "AssistantAgent")
    assert json.loads(row["init_args"])["name"] == "helper"
    runtime_logging.log_new_agent(agent, {"foo": "bar", "a": None})  # the same agent again: replaced
    [row] = rows("SELECT init_args FROM agents")
    assert json.loads(row["init_args"]) == {"foo": "bar", "a": None}
    wrappers = rows("SELECT init_args FROM oai_wrappers")
    assert wrappers and all("config_list" in json.loads(w["init_args"]) for w in wrappers)
    assert all("api_key" not in e and "base_url" not in e for w in wrappers for e in json.loads(w["init_args"])["config_list"])
    runtime_logging.log_new_client(FakeClient(), OpenAIWrapper, {"api_key": SECRET, "api_version": "v1",
                                                                 "headers": {"x": f"Bearer {SECRET}"}})
    [client] = rows("SELECT class, init_args FROM oai_clients")
    assert client["class"] == "FakeClient" and json.loads(client["init_args"])["api_version"] == "v1"
    runtime_logging.stop()
    assert SECRET.encode() not in db.read_bytes() and b"user:pw" not in db.read_bytes()


def test_function_calls_events_and_completions_are_logged(session):
    _, session_id = session
    agent = AssistantAgent("helper", llm_config=False)
    runtime_logging.log_function_use(agent, len, {"obj": [1, 2]}, 2)
    runtime_logging.log_event(agent, "received_message", message="hi", sender=object())
    runtime_logging.log_event("a source", "started")
    runtime_logging.log_chat_completion(invocation_id="i1", client_id=2**60, wrapper_id=2**61, agent=agent,
                                        request={"model": "m", "messages": []}, response=None, is_cached=0, cost=0.5,
                                        start_time="2026-12-02 04:00:00.000000")
    [call] = rows("SELECT source_name, function_name, args, returns FROM function_calls")
    assert tuple(call) == ("helper", "len", json.dumps({"obj": [1, 2]}), "2")
    events = rows("SELECT event_name, source_name, agent_class_name, json_state FROM events ORDER BY id")
    assert [(e["event_name"], e["source_name"], e["agent_class_name"]) for e in events] == [
        ("received_message", "helper", "AssistantAgent"), ("started", "a source", None)]
    assert json.loads(events[0]["json_state"]) == {"message": "hi", "sender": "<<non-serializable: object>>"}
    [completion] = rows("SELECT client_id, wrapper_id, response, source_name, session_id FROM chat_completions")
    assert tuple(completion) == (2**60, 2**61, '{"response": null}', "helper", session_id)


def test_a_write_that_fails_is_logged_not_raised(session, caplog):
    with caplog.at_level(logging.ERROR):
        runtime_logging.log_chat_completion(invocation_id="i", client_id=1, wrapper_id=1, agent=None, request={},
                                            response="x", is_cached={"not": "an int"}, cost=0.0, start_time="t")
    assert any(r.getMessage().startswith("[sqlite logger]Error running query with query") for r in caplog.records)


def test_without_a_session_the_calls_do_nothing():
    runtime_logging.log_event("source", "nothing")  # no session: no error, nothing written
    assert runtime_logging.get_connection() is None


def test_an_in_memory_log_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runtime_logging.start(config={"dbname": ":memory:"})
    try:
        runtime_logging.log_event("source", "kept in memory")
        assert [r["event_name"] for r in rows("SELECT event_name FROM events")] == ["kept in memory"]
    finally:
        runtime_logging.stop()
    assert list(tmp_path.iterdir()) == []


def test_the_file_logger_writes_the_calls_as_lines_without_secrets(tmp_path):
    log = tmp_path / "runtime.log"
    runtime_logging.start(logger_type="file", config={"filename": str(log)})
    try:
        runtime_logging.log_new_client(FakeClient(), None, {"api_key": SECRET, "api_version": "v1"})
    finally:
        runtime_logging.stop()
    [line] = [json.loads(x) for x in log.read_text().splitlines()]
    assert line["event"] == "new_client" and line["init_args"] == {"api_version": "v1"} and SECRET not in log.read_text()


def test_a_sqlite_logger_from_the_factory_runs_a_session(tmp_path):
    from parley.logger import LoggerFactory, SqliteLogger

    logger = LoggerFactory.get_logger("sqlite", {"dbname": str(tmp_path / "f.db")})
    assert isinstance(logger, SqliteLogger)
    session_id = runtime_logging.start(logger=logger)
    try:
        assert session_id == logger.session_id and runtime_logging.logging_enabled()
        AssistantAgent("made", llm_config=False)
        runtime_logging.log_function_use("a source", len, {"obj": "ab"}, 2)
        assert [r["name"] for r in rows("SELECT name FROM agents")] == ["made"]
        assert [r["source_name"] for r in rows("SELECT source_name FROM function_calls")] == ["a source"]
    finally:
        runtime_logging.stop()
    assert logger.store is None and not runtime_logging.logging_enabled()
    with pytest.raises(ValueError, match="unknown key"):
        SqliteLogger({"db": "x"})
