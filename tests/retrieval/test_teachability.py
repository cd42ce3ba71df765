"""Teachability: memos learned from what a user teaches, recalled in later chats and processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from parley import ConversableAgent, IOQueue, IOStream, UserProxyAgent
from parley.agentchat.contrib.capabilities.teachability import MemoStore, Teachability
from parley.cli import main as parley_main
from parley.events import MemosRecalled, MemoStored, capture
from parley.retrieval.pgvector import PGVectorDB

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("teach_child.py")
FACT = "The codename of project Lighthouse is BLUEBIRD."
TEACHABLE_MARK = "You've been given the special ability to remember user teachings"


def analyzer_and_agent(body: dict) -> dict:
    """The fake model: answers the TextAnalyzerAgent's questions about a text, and 'ok' to everything else."""
    last = body["messages"][-1]["content"]
    if not last.startswith("INSTRUCTIONS:"):
        return {"content": "ok"}
    instructions, text = last.split("\nTEXT: ", 1)
    if "perform a task" in instructions:
        return {"content": "no"}
    if "Copy the information" in instructions:
        return {"content": FACT}
    if "committed to memory" in instructions:
        return {"content": "yes" if "remember" in text.lower() else "no"}
    if "How would they ask" in instructions:
        return {"content": "What is the codename of project Lighthouse?"}
    return {"content": "none"}


def _agent_prompts(server) -> list[str]:
    """The last message of each request the teachable agent itself made (not its analyzer)."""
    return [r["messages"][-1]["content"] for r in server.requests if TEACHABLE_MARK in r["messages"][0]["content"]]


def _child(server, db_dir, message):
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    subprocess.run([sys.executable, str(CHILD), server.base_url, str(db_dir), message], check=True, env=env, cwd=ROOT,
                   timeout=240, capture_output=True)


def test_a_taught_fact_is_recalled_in_a_new_process_and_a_deleted_memo_is_not(openai_server, tmp_path, capsys):
    openai_server.default = analyzer_and_agent
    db_dir = tmp_path / "teachable"
    teaching = "Please remember: the codename of project Lighthouse is BLUEBIRD."
    _child(openai_server, db_dir, teaching)
    assert _agent_prompts(openai_server) == [teaching]  # nothing to recall yet

    openai_server.requests.clear()
    question = "What's the secret name we use for the Lighthouse project?"
    _child(openai_server, db_dir, question)
    [prompt] = _agent_prompts(openai_server)
    assert prompt.startswith(question) and "# Memories that might help" in prompt and f"- {FACT}" in prompt

    capsys.readouterr()
    assert parley_main(["memos", "--path", str(db_dir), "list"]) == 0
    listed = capsys.readouterr().out
    assert "What is the codename of project Lighthouse?" in listed and FACT in listed
    assert parley_main(["memos", "--path", str(db_dir), "delete", "1"]) == 0
    assert parley_main(["memos", "--path", str(db_dir), "delete", "1"]) == 1
    assert "no memo with id '1'" in capsys.readouterr().err

    openai_server.requests.clear()
    _child(openai_server, db_dir, question)
    [prompt] = _agent_prompts(openai_server)
    assert prompt == question  # nothing recalled


def test_recalls_and_stores_are_events_and_unrelated_memos_stay_out(openai_server, tmp_path):
    openai_server.default = analyzer_and_agent
    llm_config = {"config_list": [{"model": "gpt-4", "api_key": "sk-fake", "base_url": openai_server.base_url}]}
    agent = ConversableAgent("teachable", llm_config=llm_config, human_input_mode="NEVER")
    teachability = Teachability(verbosity=3, path_to_db_dir=str(tmp_path / "db"), llm_config=llm_config)
    teachability.add_to_agent(agent)
    teachability.memo_store.add_memo("How do I water the office ferns?", "Water the ferns every Tuesday.")
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    with capture(kinds=(MemosRecalled, MemoStored)) as seen, IOStream.set_default(IOQueue()) as stream:
        user.initiate_chat(agent, message="Remember this: the codename of project Lighthouse is BLUEBIRD.", max_turns=1)
        user.initiate_chat(agent, message="Tell me the Lighthouse project's code name.", max_turns=1)
    for line in ("THE CLOSEST MEMO IS BEYOND THE THRESHOLD", "REMEMBER THIS QUESTION-ANSWER PAIR", "LIST OF MEMOS",
                 "MEMOS APPENDED TO LAST MESSAGE", "ANALYZER: Does the TEXT contain information"):
        assert line in stream.output
    [stored] = seen.of(MemoStored)
    assert (stored.agent, stored.memo_id, stored.output) == ("teachable", "2", FACT)
    first, second = seen.of(MemosRecalled)
    assert first.memos == []  # the fern memo is too far from the first message
    assert [m["output"] for m in second.memos] == [FACT] and second.query.startswith("Tell me the Lighthouse")
    assert 0 <= second.memos[0]["distance"] < teachability.recall_threshold
    prompt = _agent_prompts(openai_server)[-1]
    assert FACT in prompt and "ferns" not in prompt
    # The stored history keeps what the user said; only the model saw the memos.
    assert agent.chat_messages[user][-2]["content"] == "Tell me the Lighthouse project's code name."


def test_the_memo_api_lists_edits_and_deletes(tmp_path):
    store = MemoStore(path_to_db_dir=str(tmp_path / "memos"))
    first = store.add_memo("What colour is the sky?", "Blue.")
    second = store.add_memo("Which dessert does Ana like?", "Ana likes lemon tart.")
    assert [(m.id, m.output) for m in store.memos()] == [("1", "Blue."), ("2", "Ana likes lemon tart.")]
    store.edit_memo(second.id, output_text="Ana likes cheesecake.")
    assert store.get_related_memos("What should I bake for Ana?", 5, 1.5)[0][1] == "Ana likes cheesecake."
    store.edit_memo(first.id, input_text="How tall is the tower?")
    assert store.get_nearest_memo("height of the tower")[0] == "How tall is the tower?"
    store.delete_memo(first.id)
    with pytest.raises(KeyError, match="no memo with id '1'"):
        store.get_memo("1")
    assert MemoStore(path_to_db_dir=str(tmp_path / "memos")).uid_text_dict == {"2": ("Which dessert does Ana like?",
                                                                                    "Ana likes cheesecake.")}
    assert MemoStore(path_to_db_dir=str(tmp_path / "memos"), reset=True).memos() == []


def test_memos_can_live_in_postgres(pgvector_url, capsys):
    store = MemoStore(vector_db=PGVectorDB(connection_string=pgvector_url), reset=True)
    store.add_memo("Where is the spare key?", "Under the blue flowerpot.")
    [(memo, _distance)] = store.related("I lost my key, where's the other one?", 3, 1.5)
    assert memo.output == "Under the blue flowerpot."
    assert parley_main(["memos", "--pgvector", pgvector_url, "list", "--json"]) == 0
    assert '"output": "Under the blue flowerpot."' in capsys.readouterr().out


def test_bad_teachability_settings_are_named(tmp_path):
    with pytest.raises(ValueError, match="recall_threshold"):
        Teachability(path_to_db_dir=str(tmp_path / "a"), recall_threshold=-1)
    with pytest.raises(ValueError, match="max_num_retrievals"):
        Teachability(path_to_db_dir=str(tmp_path / "a"), max_num_retrievals=0)
    with pytest.raises(ValueError, match="needs an llm_config"):
        Teachability(path_to_db_dir=str(tmp_path / "a")).add_to_agent(ConversableAgent("plain", llm_config=False))
    assert parley_main(["memos", "--path", str(tmp_path / "none"), "list"]) == 1
