"""Many processes opening one new SQLite store at once: every one succeeds (schema creation and
migrations are serialized by the write lock, lock errors are waited out)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from parley.store import RunStore

_OPEN = textwrap.dedent("""
    import os, sys, time
    db, go, name = sys.argv[1:]
    from parley import ConversableAgent, ScriptedModelClient
    from parley.io.console import console_sink
    from parley.store import RunStore
    console_sink.enabled = False
    while not os.path.exists(go):  # all start opening at the same moment
        time.sleep(0.001)
    with RunStore(db) as store:
        config = {"config_list": [{"model": "s", "client": ScriptedModelClient(lambda r: "TERMINATE")}]}
        a = ConversableAgent(f"a{name}", llm_config=config, human_input_mode="NEVER")
        b = ConversableAgent(f"b{name}", llm_config=config, human_input_mode="NEVER")
        a.initiate_chat(b, message=f"hello {name}", silent=True)
""")


@pytest.mark.slow
def test_forty_processes_opening_one_new_sqlite_store_all_succeed(tmp_path):
    db, go = tmp_path / "new" / "runs.db", tmp_path / "go"
    children = [subprocess.Popen([sys.executable, "-c", _OPEN, str(db), str(go), str(i)], stderr=subprocess.PIPE)
                for i in range(40)]
    time.sleep(3)  # let them import parley; then open together
    go.touch()
    errors = [child.communicate(timeout=240)[1].decode() for child in children]
    failed = [(child.returncode, error[-1500:]) for child, error in zip(children, errors) if child.returncode != 0]
    assert failed == []
    assert not any("locked" in error for error in errors)
    store = RunStore(db)
    runs = store.list_runs(limit=None)
    assert sorted(run.initiator for run in runs) == sorted(f"a{i}" for i in range(40))
    assert {run.status for run in runs} == {"finished"}
    assert all(len(store.messages(run.id)) == 2 for run in runs)
    store.close()
