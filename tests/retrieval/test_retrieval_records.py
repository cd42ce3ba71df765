"""Retrievals in the run store (SQLite and PostgreSQL), in ``parley runs show`` and exports, and on
the console: where an answer came from, as the events said it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from parley import ConversableAgent, IOQueue, IOStream, UserProxyAgent
from parley.agentchat.contrib.capabilities.teachability import Teachability
from parley.events import DocumentsRetrieved, MemosRecalled, MemoStored, capture
from parley.io.console import console_sink
from parley.store import RunStore
from parley.studio.event_feed import recorded_events

from .test_retrieve_chat import QUESTION, _assistant, _rag
from .test_teachability import FACT, analyzer_and_agent

API_KEY = "sk-fake-retrieval-secret-0042"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    """A run store: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    server = request.getfixturevalue("pgvector_url").replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"runs{int(time.time() * 1e6)}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


def _runs(*args: str, store: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "parley.cli", "runs", "--store", store, *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_a_retrieve_chat_stores_its_retrievals_as_emitted(store_url, openai_server, tmp_path, docs_folder):
    rag = _rag(tmp_path, docs_folder)
    assistant = _assistant(openai_server)
    assistant.llm_config["config_list"][0]["api_key"] = API_KEY
    openai_server.add({"content": "UPDATE CONTEXT"}, {"content": "7311"})
    with RunStore(store_url) as store, capture(kinds=(DocumentsRetrieved,)) as seen:
        rag.initiate_chat(assistant, message=rag.message_generator, problem=QUESTION, n_results=2)
        [run] = store.list_runs()
        stored = store.retrievals(run.id)
        rows = store.records(run.id, "retrievals")
        exported = json.loads(store.export(run.id, "json"))
        markdown = store.export(run.id, "md")
        replay = [item for item in recorded_events(store, run.id) if item["type"] == "DocumentsRetrieved"]
    assert len(seen.events) == 2  # the first context, then the next chunks after UPDATE CONTEXT
    assert stored == seen.events  # query, collection, sources with distances, chunks used, time
    first = stored[0]
    assert first.query == QUESTION and first.results[0]["source"].endswith("notes.txt") and len(first.used) == 2
    assert [r["kind"] for r in rows] == ["documents", "documents"]
    assert [(r["query"], json.loads(r["used"])) for r in rows] == [(e.query, e.used) for e in seen.events]
    assert [(r["results"], r["used"]) for r in exported["retrievals"]] == [(e.results, e.used) for e in seen.events]
    assert "## Retrievals" in markdown and f"[chunks {', '.join(first.used)}]" in markdown
    assert [(item["query"], item["used"], item["time"]) for item in replay] == [(e.query, e.used, e.time) for e in seen.events]
    assert API_KEY not in json.dumps(exported) and API_KEY not in markdown

    shown = _runs("show", run.id, store=store_url)
    assert shown.returncode == 0, shown.stderr
    assert "retrievals:" in shown.stdout
    source = os.path.basename(first.results[0]["source"])
    distance = f"{first.results[0]['distance']:.2f}"
    line = next(line for line in shown.stdout.splitlines() if f"[chunks {', '.join(first.used)}]" in line)
    assert line.strip().startswith("ragproxy: RETRIEVED 2 chunks for \"Which port") and f"{source} ({distance})" in line


def test_a_teachable_agent_stores_what_it_recalled_and_learned(store_url, openai_server, tmp_path):
    openai_server.default = analyzer_and_agent
    llm_config = {"config_list": [{"model": "gpt-4", "api_key": API_KEY, "base_url": openai_server.base_url}]}
    agent = ConversableAgent("teachable", llm_config=llm_config, human_input_mode="NEVER")
    Teachability(verbosity=0, path_to_db_dir=str(tmp_path / "db"), llm_config=llm_config).add_to_agent(agent)
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    with RunStore(store_url) as store, capture(kinds=(MemosRecalled, MemoStored)) as seen:
        with store.new_run() as run:
            user.initiate_chat(agent, message="Remember this: the codename of project Lighthouse is BLUEBIRD.",
                               max_turns=1, silent=True)
            user.initiate_chat(agent, message="Tell me the Lighthouse project's code name.", max_turns=1, silent=True)
        stored = store.retrievals(run.id)
        markdown = store.export(run.id, "md")
    assert [type(e) for e in seen.events] == [MemoStored, MemosRecalled]  # nothing to recall from an empty store
    assert stored == seen.events
    assert stored[1].memos[0]["output"] == FACT and stored[0].output == FACT
    assert f'- teachable: STORED MEMO "What is the codename of project Lighthou…" -> "{FACT[:40]}…" [memo 1]' in markdown
    assert '- teachable: RECALLED 1 memo for "Tell me the Lighthouse project\'s code name.": ' in markdown
    assert API_KEY not in markdown


def test_the_console_prints_one_line_per_retrieval_unless_silent(openai_server, tmp_path, docs_folder):
    rag = _rag(tmp_path, docs_folder)
    openai_server.add({"content": "7311"}, {"content": "7311"})
    console_sink.enabled = True  # the tests' fixture quiets it
    with capture(kinds=(DocumentsRetrieved,)) as seen, IOStream.set_default(IOQueue()) as stream:
        rag.initiate_chat(_assistant(openai_server), message=rag.message_generator, problem=QUESTION + "\x1b[2J",
                          n_results=2)
        printed = stream.output
    [event] = seen.events
    [line] = [line for line in printed.splitlines() if line.startswith(">>>>>>>> RETRIEVED")]
    sources = ", ".join(f"{os.path.basename(r['source'])} ({r['distance']:.2f})" for r in event.results[:2])
    assert line == f'>>>>>>>> RETRIEVED 2 chunks for "{QUESTION}\\x1b[2J" from {sources}'  # the escape shown
    assert "\x1b[2J" not in printed

    with IOStream.set_default(IOQueue()) as stream:
        rag.initiate_chat(_assistant(openai_server), message=rag.message_generator, problem=QUESTION, n_results=2,
                          silent=True)
        assert "RETRIEVED" not in stream.output
