"""The spec's ``placement:`` field: validated with errors naming the field (no Ray needed), and a
placed agent built into a Ray actor on the second "node" by ``Team.build`` and ``parley run
--ray``, giving the transcript of the all-local team."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from parley.spec import SpecError, Team

ROOT = Path(__file__).resolve().parents[2]


def team_document(placement: dict | None = None) -> dict:
    writer = {"class": "AssistantAgent", "llm_config": "gpt", "description": "Writes the report."}
    if placement is not None:
        writer["placement"] = placement
    return {
        "version": 1,
        "name": "placed",
        "models": {"gpt": {"config_list": {"env_or_file": "OAI_CONFIG_LIST"}, "temperature": 0}},
        "tools": {"calculator": {"function": "parley.spec.tools:calculator", "caller": "critic", "executor": "writer"}},
        "agents": {
            "user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                     "default_auto_reply": ""},
            "writer": writer,
            "critic": {"class": "AssistantAgent", "llm_config": "gpt", "description": "Criticises the report."},
            "manager": {"class": "GroupChatManager", "groupchat": "team"},
        },
        "group_chats": {"team": {"agents": ["user", "writer", "critic"], "max_round": 6,
                                 "speaker_selection_method": "round_robin"}},
        "run": {"initiator": "user", "recipient": "manager", "message": "Report on {task}."},
    }


def issues_of(document: dict) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as caught:
        Team.from_dict(document)
    return [(issue.path, issue.message) for issue in caught.value.issues]


@pytest.mark.parametrize(("placement", "path", "words"), [
    ({"resources": {}}, "agents.writer.placement.resources", "at least 1"),
    ({"resources": {"node b": 1}}, "agents.writer.placement.resources", "letters, digits"),
    ({"resources": {"GPU": 1}}, "agents.writer.placement.resources", "num_gpus"),
    ({"resources": {"node_b": 0}}, "agents.writer.placement.resources", "positive number"),
    ({"resources": {"node_b": True}}, "agents.writer.placement.resources", "positive number"),
    ({"resources": ["node_b"]}, "agents.writer.placement.resources", "mapping"),
    ({"resources": {"node_b": 1}, "max_restarts": -1}, "agents.writer.placement.max_restarts", "integer ≥ 0"),
    ({"resources": {"node_b": 1}, "command": "rm -rf /"}, "agents.writer.placement", "unknown key 'command'"),
    ({}, "agents.writer.placement.resources", "required"),
])
def test_a_bad_placement_is_named(placement, path, words):
    issues = issues_of(team_document(placement))
    assert any(p == path and words.lower() in m.lower() for p, m in issues), issues


def test_what_cannot_be_placed_is_named():
    document = team_document({"resources": {"node_b": 1}})
    document["agents"]["manager"]["placement"] = {"resources": {"node_a": 1}}
    document["agents"]["user"]["placement"] = {"resources": {"node_a": 1}}
    del document["agents"]["user"]["human_input_mode"]
    document["agents"]["writer"]["nested_chats"] = [{"trigger": "user", "chat_queue": [{"recipient": "critic"}]}]
    issues = dict(issues_of(document))
    assert "group chat's loop" in issues["agents.manager.placement"]
    assert "human_input_mode: NEVER (it is ALWAYS)" in issues["agents.user.human_input_mode"]
    assert "not supported" in issues["agents.writer.nested_chats"]


def test_a_placement_round_trips_and_loading_or_checking_starts_nothing():
    document = team_document({"resources": {"node_b": 0.5}, "max_restarts": 1, "num_gpus": 0})
    team = Team.from_dict(copy.deepcopy(document))
    assert team.to_dict()["agents"]["writer"]["placement"] == {"resources": {"node_b": 0.5}, "max_restarts": 1, "num_gpus": 0}
    code = ("import sys\nfrom parley.spec import Team\nfrom tests.distributed.test_placement import team_document\n"
            "team = Team.from_dict(team_document({'resources': {'node_b': 1}}))\nteam.validate()\n"
            "report = team.check()\nassert report.ok, report.lines()\n"
            "print('ray' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def transcript(built) -> list[tuple[str, str]]:
    result = built.initiator.initiate_chat(built.recipient, message="Report on stock.", silent=True)
    return [(m["name"], m["content"]) for m in result.chat_history]


def test_a_placed_agent_lives_in_an_actor_and_the_transcript_is_the_local_one(ray_head):
    pytest.importorskip("ray")
    from parley.distributed import RemoteAgent

    local = transcript(Team.from_dict(team_document()).build(model="scripted"))
    built = Team.from_dict(team_document({"resources": {"node_b": 1}})).build(model="scripted")
    writer = built.agents["writer"]
    try:
        assert isinstance(writer, RemoteAgent) and writer.description == "Writes the report."
        assert set(writer.function_map) == {"calculator"}  # the tool's executor side, registered in the actor
        assert [t["function"]["name"] for t in built.agents["critic"].llm_config["tools"]] == ["calculator"]
        placed = transcript(built)
    finally:
        writer.close()
    assert placed == local and [name for name, _ in placed][:3] == ["user", "writer", "critic"]



def placed_actors(ray) -> list[dict]:
    """The AgentHost actors the Ray head has seen, of every job (its actor table, from the GCS)."""
    import ray._private.state

    return [actor for actor in ray._private.state.actors().values() if actor["ActorClassName"].endswith("AgentHost")]


def test_parley_run_places_the_agent_on_the_running_ray(ray_head, tmp_path):
    before = len(placed_actors(ray_head))
    spec = tmp_path / "team.yaml"
    spec.write_text(yaml.safe_dump(team_document({"resources": {"node_b": 1}})))
    done = subprocess.run([sys.executable, "-m", "parley.cli", "run", str(spec), "--message", "stock", "--model", "scripted",
                           "--ray", "--store", str(tmp_path / "runs.db")],
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, capture_output=True, text=True, timeout=240,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Recorded as run" in done.stdout
    from parley.store import RunStore

    with RunStore(tmp_path / "runs.db", create=False) as store:
        [run] = store.list_runs(limit=None)
        senders = [m.sender for m in store.messages(run.id)]
    assert senders[:3] == ["user", "writer", "critic"]
    started = placed_actors(ray_head)[before:]
    assert len(started) == 1  # the writer, in an actor of the run's job


def test_a_fan_out_of_a_team_with_a_placed_agent(ray_head, tmp_path):
    from parley.distributed import run_many

    document = team_document({"resources": {"node_b": 0.1}})
    before = len(placed_actors(ray_head))
    local = run_many(team_document(), ["a", "b", "c"], store=tmp_path / "local.db", model="scripted", progress=False)
    on_ray = run_many(document, ["a", "b", "c"], address="auto", store=tmp_path / "ray.db", model="scripted",
                      progress=False, max_concurrency=3)
    assert [o.same_result() for o in on_ray] == [o.same_result() for o in local]
    assert [o.status for o in on_ray] == ["finished"] * 3
    assert len(placed_actors(ray_head)) - before == 3  # one writer per chat, started by the worker running it
