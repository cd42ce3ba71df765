"""parley.spec.Team: loading (files, versions), import rules, building, running, capturing."""

from __future__ import annotations

import sys

import pytest

from parley import (
    AssistantAgent,
    ConversableAgent,
    GroupChat,
    GroupChatManager,
    UserProxyAgent,
)
from parley.io.console import console_sink
from parley.spec import SpecError, Team

from .base_specs import team_document

LOUD = "tests.spec.loud_module"


@pytest.fixture(autouse=True)
def _quiet():
    before, console_sink.enabled = console_sink.enabled, False
    yield
    console_sink.enabled = before


def loud_team() -> dict:
    document = team_document()
    document["agents"]["Critic"]["is_termination_msg"] = {"function": f"{LOUD}:done"}
    return document


def test_loading_and_validating_import_nothing():
    sys.modules.pop(LOUD, None)
    team = Team.from_dict(loud_team())
    report = team.validate()
    assert report.imports == ["parley.spec.tools", LOUD] and report.not_allowed == [LOUD]
    assert LOUD not in sys.modules
    with pytest.raises(SpecError, match=r"^agents\.Critic\.is_termination_msg\.function: module 'tests\.spec\.loud_module' is not allowed"):
        team.build(model="scripted")
    assert LOUD not in sys.modules


def test_an_allowed_module_is_imported_at_build(monkeypatch):
    built = Team.from_dict(loud_team()).build(model="scripted", allow_modules=["tests.spec"])
    assert built.agents["Critic"]._is_termination_msg({"content": "all DONE"})
    monkeypatch.setenv("PARLEY_SPEC_ALLOW_MODULES", "json, tests.spec.loud_module")
    assert Team.from_dict(loud_team()).validate().not_allowed == []
    Team.from_dict(loud_team()).build(model="scripted")


def test_a_version_0_document_is_upgraded():
    document = team_document()
    document["version"] = 0
    document["start"] = document.pop("run")
    document["agents"]["Engineer"]["model"] = document["agents"]["Engineer"].pop("llm_config")
    team = Team.from_dict(document)
    assert team.to_dict() == team_document()


def test_from_file_and_back(tmp_path):
    path = tmp_path / "team.yaml"
    team = Team.from_dict(team_document())
    path.write_text(team.to_yaml(), encoding="utf-8")
    assert Team.from_file(path) == team
    assert Team.from_yaml(team.to_json()) == team


def test_the_digest_is_the_documents():
    one, two = Team.from_dict(team_document()), Team.from_dict(team_document())
    assert one.digest == two.digest and len(one.digest) == 64
    changed = team_document()
    changed["group_chats"]["team"]["max_round"] = 11
    assert Team.from_dict(changed).digest != one.digest


def test_built_agents_get_the_classic_parameters():
    built = Team.from_dict(team_document()).build(model="scripted")
    engineer, executor, manager = built.agents["Engineer"], built.agents["Executor"], built.agents["manager"]
    assert isinstance(engineer, AssistantAgent) and engineer.max_consecutive_auto_reply() == 3
    assert isinstance(executor, UserProxyAgent) and executor._code_execution_config == {"work_dir": "work", "use_docker": False}
    assert isinstance(manager, GroupChatManager) and [a.name for a in manager.groupchat.agents] == ["Admin", "Engineer", "Executor", "Critic"]
    transitions = manager.groupchat.allowed_or_disallowed_speaker_transitions
    assert {a.name: [t.name for t in ts] for a, ts in transitions.items()}["Engineer"] == ["Executor", "Critic"]
    assert built.initiator is built.agents["Admin"] and built.recipient is manager


def test_a_run_needs_its_task():
    document = team_document()
    del document["run"]["task"]
    with pytest.raises(SpecError, match=r"^run\.task: this team's message needs a task"):
        Team.from_dict(document).run(model="scripted", silent=True)


def test_the_check_reports_an_agent_no_transition_reaches():
    document = team_document()
    document["group_chats"]["team"]["allowed_or_disallowed_speaker_transitions"] = {
        "Admin": ["Engineer"], "Engineer": ["Admin"], "Executor": ["Critic"], "Critic": ["Executor"]}
    report = Team.from_dict(document).check()
    assert not report.ok
    assert "agents.Executor: never speaks in the walk (not reachable)" in report.lines()
    assert "group_chats.team.transitions Critic -> Executor: can't be used (one side never speaks)" in report.lines()


def test_from_agents_captures_a_python_team():
    from tests.spec.loud_module import done

    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, is_termination_msg=done)
    writer = AssistantAgent("writer", system_message="You write.", llm_config={"config_list": [{"model": "gpt-4o"}], "temperature": 0.5})
    critic = ConversableAgent("critic", llm_config=False, default_auto_reply="ok", max_consecutive_auto_reply=2)
    groupchat = GroupChat([user, writer, critic], messages=[], max_round=7, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    document = Team.from_agents(user, manager, message="Write about {task}", max_turns=2).to_dict()
    assert document["agents"] == {
        "user": {"class": "UserProxyAgent", "human_input_mode": "NEVER", "code_execution_config": False,
                 "is_termination_msg": {"function": "tests.spec.loud_module:done"}},
        "chat_manager": {"class": "GroupChatManager", "llm_config": False, "groupchat": "chat_manager_group"},
        "writer": {"class": "AssistantAgent", "system_message": "You write.", "llm_config": "model"},
        "critic": {"class": "ConversableAgent", "max_consecutive_auto_reply": 2, "default_auto_reply": "ok",
                   "llm_config": False},
    }
    assert document["models"] == {"model": {"config_list": [{"model": "gpt-4o"}], "temperature": 0.5}}
    assert document["group_chats"] == {"chat_manager_group": {"agents": ["user", "writer", "critic"], "max_round": 7,
                                                              "speaker_selection_method": "round_robin"}}
    assert document["run"] == {"initiator": "user", "recipient": "chat_manager", "message": "Write about {task}", "max_turns": 2}


async def test_a_run_is_the_async_face():
    result = await Team.from_dict(team_document()).a_run("a task", model="scripted", silent=True)
    assert result.chat_history[0]["content"] == "a task"
    assert result.chat_history[-1]["content"].endswith("TERMINATE") or len(result.chat_history) > 2


def test_a_built_team_dumps_back_tool_names_and_nested_positions():
    document = team_document()
    document["tools"] = {"calc": {"function": "parley.spec.tools:calculator", "caller": "Engineer", "executor": "Executor",
                                  "name": "calculate"}}
    document["agents"]["Critic"]["nested_chats"][0]["position"] = 1
    document["agents"]["Critic"]["nested_chats"].append({"trigger": ["Admin", "Executor"], "chat_queue": [{"recipient": "Reviewer"}]})
    team = Team.from_dict(document)
    built = team.build(model="scripted")
    assert "calculate" in built.agents["Executor"]._function_map
    assert Team.from_agents(built.initiator, built.recipient) == team


def test_nested_chats_registered_in_python_dump_in_their_order():
    critic = AssistantAgent("critic", llm_config=False)
    writer = AssistantAgent("writer", llm_config=False)
    one, two = AssistantAgent("one", llm_config=False), AssistantAgent("two", llm_config=False)
    critic.register_nested_chats([{"recipient": one, "max_turns": 1}], trigger=writer)
    critic.register_nested_chats([{"recipient": two, "message": "again", "summary_method": "last_msg"}], trigger=[writer, one])
    document = Team.from_agents(critic, writer, message="go").to_dict()
    assert document["agents"]["critic"]["nested_chats"] == [
        {"trigger": "writer", "chat_queue": [{"recipient": "one", "max_turns": 1}]},
        {"trigger": ["writer", "one"], "chat_queue": [{"recipient": "two", "message": "again", "summary_method": "last_msg"}]},
    ]
    rebuilt = Team.from_dict(document).build(model="scripted")
    assert Team.from_agents(rebuilt.initiator, rebuilt.recipient, message="go").to_dict() == document
