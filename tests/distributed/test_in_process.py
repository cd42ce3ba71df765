"""run_many in this process (address=None): many chats on asyncio, each a run of the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from parley.distributed import run_many
from parley.spec import SpecError, Team
from parley.store import RunStore

from .conftest import team_document


def test_results_in_task_order_each_a_recorded_run(fake_openai, tmp_path):
    tasks = [f"item {i}" for i in range(60)] + ["please refuse"]
    store_url = f"sqlite:///{tmp_path / 'runs.db'}"
    outcomes = run_many(team_document(), tasks, store=store_url, max_concurrency=16, progress=False)
    assert [o.index for o in outcomes] == list(range(61))
    for i, outcome in enumerate(outcomes[:60]):
        assert outcome.status == "finished", outcome
        assert outcome.summary == f"done: Task: item {i} (turn 2)"
        assert outcome.usage["completion_tokens"] > 0 and outcome.usage["total_tokens"] == (
            outcome.usage["prompt_tokens"] + outcome.usage["completion_tokens"])
    refused = outcomes[60]
    assert refused.status == "failed" and "refused by policy" in refused.error and refused.attempts == 1
    assert len(fake_openai.requests) == 60 * 2 + 1  # two turns each; the refusal is not retried
    with RunStore(store_url, create=False) as store:
        info = store.get_run(outcomes[7].run_id)
        assert info.status == "finished"
        texts = [m.message["content"] for m in store.messages(outcomes[7].run_id)]
        assert texts[0] == "Task: item 7" and texts[-1] == "done: Task: item 7 (turn 2)"
        assert store.get_run(refused.run_id).status == "failed"


def test_dict_tasks_fill_the_template_and_a_missing_variable_names_the_field(fake_openai, tmp_path):
    team = Team.from_dict(team_document())
    outcomes = run_many(team, [{"task": "a"}, {"topic": "b"}], store=tmp_path / "runs.db", progress=False)
    assert outcomes[0].status == "finished" and outcomes[0].summary == "done: Task: a (turn 2)"
    assert outcomes[1].status == "failed" and "tasks[1].task" in outcomes[1].error


def test_a_factory_team(fake_openai, tmp_path):
    outcomes = run_many("tests.distributed.factories:two_agents", ["x", "y"], store=tmp_path / "runs.db", progress=False)
    assert [o.summary for o in outcomes] == ["done: Ask: x (turn 2)", "done: Ask: y (turn 2)"]


def test_the_progress_bar_counts_the_chats(fake_openai, tmp_path, capsys):
    run_many(team_document(), ["a", "b", "please refuse"], store=tmp_path / "runs.db", progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "failed 1" in err


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="max_concurrency"):
        run_many(team_document(), ["a"], max_concurrency=0)
    with pytest.raises(TypeError, match="team must be"):
        run_many(42, ["a"])
    with pytest.raises(SpecError):
        run_many({"version": 1, "agents": {}}, ["a"])
    with pytest.raises(ValueError, match="worker_resources"):
        run_many(team_document(), ["a"], worker_resources={"gpu_box": 1})


def test_ray_is_not_imported_in_process(fake_openai, tmp_path):
    code = ("import sys\nfrom parley.distributed import run_many, remote, RemoteAgent\n"
            "from tests.distributed.conftest import team_document\n"
            f"run_many(team_document(), ['a'], store={str(tmp_path / 'runs.db')!r}, progress=False)\n"
            "print('ray' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": f"{root / 'src'}:{root}"},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"
    assert len(fake_openai.requests) == 2


def test_a_team_of_sequential_chats(fake_openai, tmp_path):
    document = {
        "version": 1,
        "models": {"gpt": {"config_list": {"env_or_file": "OAI_CONFIG_LIST"}, "temperature": 0}},
        "agents": {"user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False},
                   "a": {"class": "AssistantAgent", "llm_config": "gpt"}, "b": {"class": "AssistantAgent", "llm_config": "gpt"}},
        "run": {"initiator": "user", "chats": [
            {"recipient": "a", "message": "{task}", "max_turns": 1},
            {"recipient": "b", "message": "next", "max_turns": 1}]},
    }
    outcomes = run_many(document, ["one", "two", {"task": "three"}], store=tmp_path / "runs.db", progress=False)
    assert [o.status for o in outcomes[:2]] == ["finished", "finished"]
    assert outcomes[0].summary.startswith("done: ") and len(fake_openai.requests) == 4
    assert outcomes[2].status == "failed" and "sequential chats takes a message" in outcomes[2].error
