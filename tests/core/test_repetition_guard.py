"""UserProxyAgent(repetition_guard=True): the same code again after a successful run gets a note
once, and ends the chat on the second repeat; other code runs as usual."""

from __future__ import annotations

import pytest

import parley
from parley import events
from parley.agents.repetition_guard import NOTE, REASON
from parley.models.scripted import ScriptedModelClient

APPEND = "```python\nwith open('runs.txt', 'a') as f:\n    f.write('run\\n')\nprint('ran')\n```"
FAILING = "```python\nraise SystemExit(3)\n```"


def run_chat(tmp_path, replies: list[str], guard: bool = True, limit: int = 6):
    assistant = parley.AssistantAgent("assistant", llm_config={
        "config_list": [{"model": "scripted", "client": ScriptedModelClient(replies)}]})
    user = parley.UserProxyAgent("user", human_input_mode="NEVER", max_consecutive_auto_reply=limit,
                                 code_execution_config={"work_dir": str(tmp_path), "use_docker": False},
                                 repetition_guard=guard)
    with events.capture(kinds=(events.TerminationChecked,)) as captured:
        result = user.initiate_chat(assistant, message="Do it.", silent=True)
    runs = (tmp_path / "runs.txt").read_text().count("run") if (tmp_path / "runs.txt").exists() else 0
    return result.chat_history, [e.reason for e in captured.events], runs


def test_a_repeat_gets_a_note_once_and_the_second_repeat_ends_the_chat(tmp_path) -> None:
    history, reasons, runs = run_chat(tmp_path, [APPEND])  # the model writes the same block every time
    contents = [m["content"] for m in history]
    assert runs == 1  # run once, never again
    assert contents[2].startswith("exitcode: 0 (execution succeeded)") and "ran" in contents[2]
    assert contents[4] == contents[2].rstrip() + "\n\n" + NOTE  # the earlier result, then the note
    assert len(history) == 6  # task, code, result, code, note, code: then no reply
    assert history[-1]["name"] == "assistant"
    assert REASON in reasons


def test_without_the_guard_the_same_code_runs_until_the_limit(tmp_path) -> None:
    history, reasons, runs = run_chat(tmp_path, [APPEND], guard=False, limit=3)
    assert runs == 3
    assert all(NOTE not in (m["content"] or "") for m in history)
    assert REASON not in reasons and "max_consecutive_auto_reply" in reasons


def test_code_that_failed_runs_again_and_new_code_runs(tmp_path) -> None:
    history, reasons, runs = run_chat(tmp_path, [FAILING, FAILING, APPEND, "Done. TERMINATE"])
    contents = [m["content"] for m in history]
    assert [c.split("\n")[0] for c in contents[2:7:2]] == [
        "exitcode: 3 (execution failed)", "exitcode: 3 (execution failed)", "exitcode: 0 (execution succeeded)"]
    assert runs == 1
    assert all(NOTE not in c for c in contents)
    assert REASON not in reasons


def test_the_option_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="repetition_guard"):
        parley.UserProxyAgent("user", repetition_guard="yes")
