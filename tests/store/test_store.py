"""The run store: what it records, grouping, export, resume in-process, both backends, bad input."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import parley
from parley import ConversableAgent, ScriptedModelClient, events
from parley.store import ResumeError, RunNotFoundError, RunStore, StoreError, schema

SECRET = "sk-test-0123456789abcdefSECRET"


def echo_config(tag, fail_at=None, **entry):
    def reply(request):
        n = len(request.messages)
        if n == fail_at:
            raise RuntimeError("model down")
        return "TERMINATE" if n >= 9 else f"{tag} {n}"
    return {"config_list": [{"model": "scripted", "client": ScriptedModelClient(reply, usage=(5, 3), cost_per_call=0.01), **entry}]}


def pair(fail_at=None, **entry):
    a = ConversableAgent("alice", llm_config=echo_config("A", **entry), human_input_mode="NEVER")
    b = ConversableAgent("bob", llm_config=echo_config("B", fail_at=fail_at, **entry), human_input_mode="NEVER")
    return a, b


def test_a_chat_is_recorded_as_a_run_with_messages_and_model_calls(store_url):
    a, b = pair()
    with RunStore(store_url) as store:
        result = a.initiate_chat(b, message="hello bob", silent=True)
        store.flush()
        [run] = store.list_runs()
        assert (run.kind, run.status, run.reason, run.initiator, run.recipient, run.title) == (
            "chat", "finished", "completed", "alice", "bob", "hello bob")
        messages = store.messages(run.id)
        assert [m.message for m in messages] == [
            {**m, "role": "user"} if m["role"] == "assistant" else m for m in result.chat_history
        ]
        # The opening message is no reply; the rest came from the model; a second chat's opening
        # message is again no reply (not the last reply of its sender).
        assert [m.produced_by for m in messages] == [None] + ["_reply_with_model"] * (len(messages) - 1)
        a.generate_reply(messages=[{"content": "hi", "role": "user"}], sender=b)  # a reply never sent
        a.initiate_chat(b, message="again", max_turns=1, silent=True)
        store.flush()
        second = store.messages(store.list_runs()[0].id)
        assert [m.produced_by for m in second] == [None, "_reply_with_model"]
        calls = store.records(run.id, "model_calls")
        assert len(calls) == len(messages) - 1
        assert {(c["model"], c["prompt_tokens"], c["completion_tokens"], c["cached"]) for c in calls} == {("scripted", 5, 3, False)}
        assert run.messages == len(messages)
        assert run.cost == pytest.approx(0.01 * len(calls))
        assert run.tokens == 8 * len(calls)


def test_new_run_groups_sequential_chats_and_nested_chats_belong_to_their_parent(sqlite_url):
    a, b = pair()
    c = ConversableAgent("carol", llm_config=echo_config("C"), human_input_mode="NEVER")
    inner = ConversableAgent("inner", llm_config=echo_config("I"), human_input_mode="NEVER")
    c.register_nested_chats([{"recipient": inner, "message": "think", "max_turns": 1, "summary_method": "last_msg"}], trigger=a)
    with RunStore(sqlite_url) as store:
        with store.new_run() as run:
            a.initiate_chats([
                {"recipient": b, "message": "first", "max_turns": 1, "silent": True},
                {"recipient": c, "message": "second", "max_turns": 1, "silent": True},
            ])
        [info] = store.list_runs()
        assert info.id == run.id and info.kind == "sequential" and info.status == "finished"
        chats = store.records(run.id, "chats")
        assert len(chats) == 3
        top = [ch for ch in chats if ch["parent_id"] is None]
        nested = [ch for ch in chats if ch["parent_id"] is not None]
        assert [(ch["sender"], ch["recipient"]) for ch in top] == [("alice", "bob"), ("alice", "carol")]
        assert [(ch["sender"], ch["recipient"], ch["parent_id"]) for ch in nested] == [("carol", "inner", top[1]["id"])]
        with pytest.raises(ResumeError, match="finished"):
            store.resume(run.id, [a, b, c])


def test_tool_calls_and_human_input_are_recorded(sqlite_url):
    calls = iter([
        {"content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"x": 2, "y": 3}'}}]},
        "TERMINATE",
    ])
    assistant = ConversableAgent("assistant", llm_config={"config_list": [{"model": "s", "client": ScriptedModelClient(lambda r: next(calls))}]},
                                 human_input_mode="NEVER")
    user = ConversableAgent("user", llm_config=False, human_input_mode="ALWAYS")

    def add(x: int, y: int) -> int:
        return x + y

    parley.register_function(add, caller=assistant, executor=user, description="add two numbers")
    with RunStore(sqlite_url) as store, parley.io.set_default(parley.IOQueue(["", "exit"])):
        user.initiate_chat(assistant, message="add 2 and 3", silent=True)
        store.flush()
        [run] = store.list_runs()
        [tool] = store.records(run.id, "tool_calls")
        assert (tool["agent"], tool["tool"], tool["tool_call_id"], tool["result"], tool["ok"]) == ("user", "add", "call_1", "5", True)
        inputs = [(h["agent"], h["kind"], h["text"]) for h in store.records(run.id, "human_inputs")]
        assert [i[1] for i in inputs] == ["request", "reply", "request", "reply"]
        assert [i[2] for i in inputs if i[1] == "reply"] == ["", "exit"]
        markdown = store.export(run.id, "md")
        assert "## Tool calls" in markdown and "| user | add |" in markdown and "### user → assistant" in markdown
        data = json.loads(store.export(run.id, "json"))
        assert data["run"]["id"] == run.id
        assert data["messages"][0]["message"]["content"] == "add 2 and 3"
        assert data["tool_calls"][0]["result"] == "5"


def test_a_failed_chat_is_resumed_in_process_to_the_uninterrupted_transcript(store_url):
    a, b = pair()
    with events.capture(kinds=(events.MessageSent,)) as seen:
        a.initiate_chat(b, message="go", silent=True)
    expected = [(e.sender, e.recipient, e.message) for e in seen.events]

    a, b = pair(fail_at=6)
    with RunStore(store_url) as store:
        with pytest.raises(RuntimeError, match="model down"):
            a.initiate_chat(b, message="go", silent=True)
        store.flush()
        [run] = store.list_runs()
        assert run.status == "failed" and run.reason == "error"
        a, b = pair()
        result = store.resume(run.id, [a, b], silent=True)
        assert [(m.sender, m.recipient, m.message) for m in store.messages(run.id)] == expected
        assert store.get_run(run.id).status == "finished"
        assert len(result.chat_history) == len(expected)


def test_no_api_key_is_stored(tmp_path):
    path = tmp_path / "runs.db"
    a, b = pair(api_key=SECRET)
    with RunStore(path) as store:
        a.initiate_chat(b, message="hello", silent=True)
        [run] = store.list_runs()
        assert SECRET not in store.export(run.id, "json")
    assert SECRET.encode() not in path.read_bytes()
    for wal in tmp_path.glob("runs.db-*"):
        assert SECRET.encode() not in wal.read_bytes()


def test_the_schema_revision_is_the_alembic_head():
    from importlib.resources import files

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(files("parley.store") / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == schema.SCHEMA_REVISION


def test_the_migrated_schema_matches_the_table_definitions(sqlite_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = RunStore(sqlite_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": schema.VERSION_TABLE})
        diff = [d for d in compare_metadata(context, schema.metadata) if not (d[0] == "remove_table" and d[1].name == schema.VERSION_TABLE)]
    store.close()
    assert diff == []


# ---------------------------------------------------------------------- bad input


def test_a_corrupt_file_is_a_clear_error_and_stays_untouched(tmp_path):
    path = tmp_path / "runs.db"
    garbage = b"this is not a database at all\x00" * 200
    path.write_bytes(garbage)
    with pytest.raises(StoreError, match="cannot open store .*runs.db.*not a database"):
        RunStore(path)
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.db"]


def test_a_foreign_database_is_refused_and_stays_untouched(tmp_path):
    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("INSERT INTO customers (name) VALUES ('ada')")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another application .*customers"):
        RunStore(path)
    assert path.read_bytes() == before


def test_a_url_that_cannot_connect_is_a_clear_error_without_the_password():
    with pytest.raises(StoreError, match=r"cannot connect to store 'postgresql\+psycopg://parley:\*\*\*@127.0.0.1:1/runs'") as info:
        RunStore("postgresql+psycopg://parley:hunter2@127.0.0.1:1/runs")
    assert "hunter2" not in str(info.value)
    with pytest.raises(StoreError, match="cannot use store .nosuchdriver://x.: Can.t load plugin"):
        RunStore("nosuchdriver://x")


def test_an_unknown_run_id_is_a_clear_error(sqlite_url):
    store = RunStore(sqlite_url)
    with pytest.raises(RunNotFoundError, match="no run with id 'nope' in RunStore"):
        store.get_run("nope")
    with pytest.raises(RunNotFoundError, match="no run with id"):
        store.resume("nope", list(pair()))
    assert store.list_runs() == []
    store.close()


def test_resume_with_missing_agents_names_them(sqlite_url):
    a, b = pair(fail_at=4)
    with RunStore(sqlite_url) as store:
        with pytest.raises(RuntimeError):
            a.initiate_chat(b, message="go", silent=True)
        [run] = store.list_runs()
        before = store.export(run.id, "json")
        with pytest.raises(ResumeError, match="needs agent\\(s\\) 'bob'"):
            store.resume(run.id, [a])
        assert store.export(run.id, "json") == before


# ---------------------------------------------------------------------- concurrency

_MANY = textwrap.dedent("""
    import asyncio, sys
    from parley import ConversableAgent, ScriptedModelClient
    from parley.io.console import console_sink
    from parley.store import RunStore
    console_sink.enabled = False

    def agent(name):
        reply = lambda r: "TERMINATE" if len(r.messages) > 20 else f"{name} {len(r.messages)}"
        return ConversableAgent(name, llm_config={"config_list": [{"model": "s", "client": ScriptedModelClient(reply)}]},
                                human_input_mode="NEVER")

    async def main(url, process, runs):
        with RunStore(url):
            pairs = [(agent(f"a{process}-{i}"), agent(f"b{process}-{i}")) for i in range(runs)]
            await asyncio.gather(*(a.a_initiate_chat(b, message=f"go {process}-{i}", silent=True) for i, (a, b) in enumerate(pairs)))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
""")


@pytest.mark.slow
def test_fifty_concurrent_runs_write_one_sqlite_store_without_loss(sqlite_url):
    RunStore(sqlite_url).close()  # create the schema once, as a deployment would
    processes, per_process = 10, 5
    children = [
        subprocess.Popen([sys.executable, "-c", _MANY, sqlite_url, str(p), str(per_process)], stderr=subprocess.PIPE)
        for p in range(processes)
    ]
    errors = [child.communicate(timeout=240)[1].decode() for child in children]
    assert all(child.returncode == 0 for child in children), "\n".join(errors)[-3000:]
    assert not any("locked" in e for e in errors)
    store = RunStore(sqlite_url)
    runs = store.list_runs(limit=None)
    assert len(runs) == processes * per_process
    assert {r.status for r in runs} == {"finished"}
    for run in runs:
        messages = store.messages(run.id)
        assert len(messages) == 21, run
        assert messages[0].message["content"] == f"go {run.initiator[1:]}"
        assert len({m.sender for m in messages}) == 2
        assert len(store.records(run.id, "model_calls")) == 20
    store.close()


def test_a_store_of_revision_0002_is_upgraded_with_its_runs(tmp_path):
    from importlib.resources import files

    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(files("parley.store") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.exec_driver_sql(
            "INSERT INTO parley_runs (id, kind, status, initiator, recipient, created_at, updated_at) "
            "VALUES ('r1', 'chat', 'finished', 'alice', 'bob', 1.0, 2.0)")
        connection.exec_driver_sql("INSERT INTO parley_messages (run_id, chat_id, sender, recipient, message, created_at) "
                                   "VALUES ('r1', 'c1', 'alice', 'bob', '{\"content\": \"hi\", \"role\": \"user\"}', 1.5)")
        connection.exec_driver_sql("INSERT INTO parley_chat_completions (invocation_id, source_name, request, response, "
                                   "is_cached, cost, start_time, end_time) VALUES ('i1', 'bob', '{}', '{}', 0, 0.0, 's', 'e')")
    engine.dispose()
    store = RunStore(path)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql(f"SELECT version_num FROM {schema.VERSION_TABLE}").scalar() == schema.SCHEMA_REVISION
        assert connection.exec_driver_sql("SELECT source_name FROM chat_completions").scalar() == "bob"  # the classic view
    [message] = store.messages("r1")
    assert (message.sender, message.message) == ("alice", {"content": "hi", "role": "user"})
    assert store.get_run("r1").initiator == "alice" and store.records("r1", "side_effects") == []
    store.close()


def test_a_store_of_revision_0003_is_upgraded_with_the_classic_log_tables(tmp_path):
    from importlib.resources import files

    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    path = tmp_path / "old.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    config = Config()
    config.set_main_option("script_location", str(files("parley.store") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.exec_driver_sql("INSERT INTO parley_chat_completions (invocation_id, client_id, source_name, request, "
                                   "response, is_cached, cost, start_time, end_time) "
                                   "VALUES ('i1', 7, 'bob', '{}', '{}', 0, 0.0, 's', 'e')")
    engine.dispose()
    store = RunStore(path)
    with store.engine.begin() as connection:
        assert connection.exec_driver_sql(f"SELECT version_num FROM {schema.VERSION_TABLE}").scalar() == schema.SCHEMA_REVISION
        assert connection.exec_driver_sql("SELECT source_name, client_id FROM chat_completions").one() == ("bob", 7)
        for view in ("agents", "oai_wrappers", "oai_clients", "function_calls", "events"):
            assert connection.exec_driver_sql(f"SELECT COUNT(*) FROM {view}").scalar() == 0
        # Python id() values do not fit 32 bits: the widened columns hold them.
        connection.execute(schema.classic_agents.insert().values(agent_id=2**62, session_id="s", name="a", class_name="C"))
        assert connection.exec_driver_sql("SELECT agent_id, class FROM agents").one() == (2**62, "C")
    store.close()
