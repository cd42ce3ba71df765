"""Any string a Python program can hold is stored and read back exactly; a record the database
refuses costs only itself (not its batch, later runs, or ``close()``)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

import parley
from parley import ConversableAgent, ScriptedModelClient, events
from parley.store import RunStore
from parley.store.text import ESCAPED, escape, unescape

# Every kind of string: lone surrogates (alone, and two that would pair if they were UTF-16),
# NUL and the other controls, what os.fsdecode makes of a non-UTF-8 file name, a character of
# every plane, noncharacters, the store's own escape marker and escape-like text, and huge ones.
KINDS = {
    "empty": "",
    "plain": "hello",
    "lone high surrogate": "a\ud800b",
    "lone low surrogate": "\udcff",
    "two lone surrogates that would pair": "\ud83d\ude00",
    "the character they would pair to": "\U0001f600",
    "NUL": "a\x00b\x00",
    "every control character": "".join(map(chr, range(32))) + "\x7f",
    "fsdecode of a non-UTF-8 file name": os.fsdecode(b"report-\xff\xfe\xc3(.txt"),
    "every plane": "".join(chr(plane * 0x10000 + 0x41) for plane in range(17)) + "\U0010ffff",
    "noncharacters": "\ufffe\uffff\ufdd0\ufdef",
    "the escape marker first": ESCAPED + "not escaped",
    "escape-like text": "\\u0041 \\0 \\\\ \\",
    "BOM, bidi and combining marks": "\ufeff\u202eabc\u202c e\u0301",
    "huge, ASCII": "x" * 3_000_000,
    "huge, with a surrogate at the end": "\u00e9" * 1_000_000 + "\udc80",
}


def test_escape_round_trips_every_kind_and_leaves_ordinary_text_alone():
    for label, text in KINDS.items():
        stored = escape(text)
        assert unescape(stored) == text, label
        stored.encode("utf-8")  # what every database takes
        assert "\x00" not in stored, label
    for ordinary in ("hello", "héllo wörld", "\U0001f600", "a\\0b", ""):
        assert escape(ordinary) == ordinary


def _agents() -> tuple[ConversableAgent, ConversableAgent, list]:
    """A user (a weird name) that runs an echo tool, and an assistant (another) that calls it once
    for each kind of string, then ends with all of them in one message (the summary)."""
    texts = list(KINDS.values())
    replies: list = [
        {"content": text, "tool_calls": [{"id": f"call_{i}", "type": "function",
                                          "function": {"name": "echo", "arguments": json.dumps({"text": text}, ensure_ascii=False)}}]}
        for i, text in enumerate(texts)
    ] + ["".join(texts)]
    assistant = ConversableAgent("assistant \udcff\x00" + "\U0010ffff" * 300,
                                 llm_config={"config_list": [{"model": "m", "client": ScriptedModelClient(replies)}]},
                                 human_input_mode="NEVER")
    user = ConversableAgent(os.fsdecode(b"user-\xff") + ESCAPED, llm_config=False, human_input_mode="NEVER",
                            is_termination_msg=lambda m: not m.get("tool_calls"), max_consecutive_auto_reply=100)

    def echo(text: str) -> str:
        # What a code execution of the same text would record (its code and output).
        events.emit(events.CodeExecuted(agent=user.name, language="py\udcff", code=text, exit_code=0, output=text + "\x00",
                                        executor="echo"))
        return text

    parley.register_function(echo, caller=assistant, executor=user, description="Echo")
    return user, assistant, texts


def _check_run(store: RunStore, run_id: str, seen: list, user, assistant, texts: list) -> None:
    info = store.get_run(run_id)
    assert (info.initiator, info.recipient) == (user.name, assistant.name)
    assert info.title == "a\ud800b" and info.summary == "".join(texts)
    assert [(m.sender, m.recipient, m.message) for m in store.messages(run_id)] == seen
    tool_calls = store.records(run_id, "tool_calls")
    assert [(c["agent"], c["tool"], json.loads(c["arguments"])["text"], c["result"]) for c in tool_calls] == [
        (user.name, "echo", text, text) for text in texts]
    codes = store.records(run_id, "code_executions")
    assert [(c["agent"], c["language"], c["code"], c["output"]) for c in codes] == [
        (user.name, "py\udcff", text, text + "\x00") for text in texts]
    effects = store.records(run_id, "side_effects")
    assert [json.loads(e["result"])["content"] for e in effects] == texts
    [chat] = store.records(run_id, "chats")
    assert chat["summary"] == "".join(texts) and json.loads(chat["message"]) == "a\ud800b"


def test_every_kind_of_string_round_trips_through_the_store(store_url):
    user, assistant, texts = _agents()
    with RunStore(store_url) as store, events.capture(kinds=(events.MessageSent,)) as captured:
        result = user.initiate_chat(assistant, message="a\ud800b", silent=True, summary_method="last_msg")
        run_id = store.last_run_id or store.list_runs()[0].id
    assert result.summary == "".join(texts)
    seen = [(e.sender, e.recipient, e.message) for e in captured.events]
    assert len(seen) == 2 * len(texts) + 2
    store = RunStore(store_url)  # read back by another store object, from the database
    _check_run(store, run_id, seen, user, assistant, texts)
    assert json.loads(store.export(run_id, "json"))["messages"][1]["message"]["content"] == texts[0]
    store.close()


def _cli(*args: str, store: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "parley.cli", "runs", "--store", store, *args], capture_output=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=120, check=False)


def test_every_kind_of_string_comes_back_through_parley_runs_show_and_export(tmp_path):
    db = str(tmp_path / "runs.db")
    user, assistant, texts = _agents()
    with RunStore(db) as store, events.capture(kinds=(events.MessageSent,)) as captured:
        user.initiate_chat(assistant, message="a\ud800b", silent=True, summary_method="last_msg")
        [run] = store.list_runs()
    exported = _cli("export", run.id, store=db)
    assert exported.returncode == 0, exported.stderr.decode()[-2000:]
    data = json.loads(exported.stdout.decode("utf-8"))  # valid UTF-8 JSON
    # JSON escapes lone surrogates as \udXXX, which JSON readers turn back into them; only two lone
    # surrogates that form a pair cannot stay apart in JSON (UTF-16 semantics): they read as one character.
    def as_json(text: object) -> object:
        return json.loads(json.dumps(text))

    assert [row["message"] for row in data["messages"]] == [as_json(e.message) for e in captured.events]
    contents = [row["message"].get("content") for row in data["messages"][1::2]]
    assert contents == [as_json(text) for text in texts] + [as_json("".join(texts))]
    assert [c == t for c, t in zip(contents, texts)].count(False) == 1  # the pair; every other kind exactly
    assert data["run"]["initiator"] == user.name and data["run"]["summary"] == as_json("".join(texts))
    assert [c["output"] for c in data["code_executions"]] == [as_json(text + "\x00") for text in texts]
    assert [e["result"]["content"] for e in data["side_effects"]] == [as_json(text) for text in texts]

    markdown = _cli("export", run.id, "--format", "md", store=db)
    assert markdown.returncode == 0, markdown.stderr.decode()[-2000:]
    assert b"a\\ud800b" in markdown.stdout  # a lone surrogate shown as its escape
    shown = _cli("show", run.id[:8], store=db)
    assert shown.returncode == 0, shown.stderr.decode()[-2000:]
    assert b"user-\\udcff" in shown.stdout and b"Transcript" in shown.stdout
    listed = _cli("list", store=db)
    assert listed.returncode == 0 and run.id[:8].encode() in listed.stdout


def test_a_record_the_database_refuses_costs_only_itself(sqlite_url, caplog):
    # The database refuses any message that mentions "poison" (a trigger), as it might refuse a
    # record for a reason of its own (a constraint, a size limit, a trigger of another application).
    RunStore(sqlite_url).close()
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON parley_messages WHEN NEW.message LIKE '%poison%' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned message refused'); END")
    engine.dispose()
    replies = ["fine 1", "poison", "fine 2", "TERMINATE"]
    a = ConversableAgent("a", llm_config=False, human_input_mode="NEVER", max_consecutive_auto_reply=10)
    b = ConversableAgent("b", llm_config={"config_list": [{"model": "m", "client": ScriptedModelClient(replies)}]},
                         human_input_mode="NEVER")
    store = RunStore(sqlite_url).attach()
    with caplog.at_level(logging.WARNING, logger="parley.store"), events.capture(kinds=(events.MessageSent,)) as captured:
        a.initiate_chat(b, message="start", silent=True)
        store.flush()  # does not raise: the batch was written, less the refused record
    expected = [(e.sender, e.recipient, e.message) for e in captured.events if "poison" not in str(e.message)]
    assert len(expected) == len(captured.events) - 1
    assert "poisoned message refused" in caplog.text
    [run] = store.list_runs()
    assert run.status == "finished" and [(m.sender, m.recipient, m.message) for m in store.messages(run.id)] == expected
    assert len(store.records(run.id, "model_calls")) == 4  # the other records of its batch are all there
    assert store._recorder.skipped == 1

    c = ConversableAgent("c", llm_config={"config_list": [{"model": "m", "client": ScriptedModelClient(["TERMINATE"])}]},
                                            human_input_mode="NEVER")
    a.initiate_chat(c, message="a later clean run", silent=True)
    store.close()  # never raises
    store = RunStore(sqlite_url)
    later = store.list_runs()[0]
    assert later.recipient == "c" and later.messages == 2 and later.status == "finished"
    store.close()


def test_a_store_whose_database_disappears_logs_and_closes_without_raising(tmp_path, caplog):
    path = tmp_path / "runs.db"
    store = RunStore(path).attach()
    a, b = (ConversableAgent(n, llm_config={"config_list": [{"model": "m", "client": ScriptedModelClient(["TERMINATE"])}]},
                                            human_input_mode="NEVER")
            for n in ("a", "b"))
    with store.engine.begin() as connection:  # the tables vanish under the recorder (another program, a bad migration)
        connection.exec_driver_sql("DROP TABLE parley_messages")
    with caplog.at_level(logging.WARNING, logger="parley.store"):
        a.initiate_chat(b, message="hello", silent=True)
        store.close()
    assert "no such table: parley_messages" in caplog.text
    assert Path(path).exists()


def test_a_batch_that_cannot_be_written_fails_its_flush_only_and_close_does_not_raise(sqlite_url, monkeypatch, caplog):
    from parley.store import StoreError
    from parley.store.recorder import Recorder

    store = RunStore(sqlite_url).attach()
    a, b = (ConversableAgent(n, llm_config={"config_list": [{"model": "m", "client": ScriptedModelClient(["TERMINATE"])}]},
                             human_input_mode="NEVER") for n in ("a", "b"))
    real = Recorder._transaction

    def broken(self, write):
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Recorder, "_transaction", broken)
    a.initiate_chat(b, message="lost", silent=True)
    with pytest.raises(StoreError, match="disk I/O error"):
        store.flush()
    monkeypatch.setattr(Recorder, "_transaction", real)  # the database is back
    a.initiate_chat(b, message="kept", silent=True)
    store.flush()  # the failure was that batch's, not every later one's
    with caplog.at_level(logging.ERROR, logger="parley.store"):
        monkeypatch.setattr(Recorder, "_transaction", broken)
        a.initiate_chat(b, message="lost at close", silent=True)
        store.close()  # logs, does not raise
    assert "disk I/O error" in caplog.text
    store = RunStore(sqlite_url)
    assert [run.title for run in store.list_runs()] == ["kept"]
    with pytest.raises(ValueError, match="without NUL or surrogates"):
        store.new_run("run-\udcff")
    store.close()
