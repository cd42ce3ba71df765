"""Bad specs: each kind gives a SpecError naming the path (and the line, for YAML text)."""

from __future__ import annotations

import json

import pytest
import yaml

from parley import AssistantAgent, ConversableAgent
from parley.spec import SpecError, Team

from .base_specs import sequential_document, team_document


def change(path: str, value, base=team_document):
    """The base document with the value at ``path`` (a.b.c; ``-`` deletes the key) changed."""
    document = base()
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value == "-":
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return document


# (what, document, the path named, words of the message)
BAD = [
    ("unknown top-level key", change("agent", {}), "<document>", "unknown key 'agent'; did you mean 'agents'?"),
    ("unknown agent key", change("agents.Engineer.sytem_message", "x"), "agents.Engineer",
     "unknown key 'sytem_message'; did you mean 'system_message'?"),
    ("unknown group chat key", change("group_chats.team.max_rounds", 3), "group_chats.team",
     "did you mean 'max_round'?"),
    ("wrong type: integer", change("agents.Engineer.max_consecutive_auto_reply", "three"),
     "agents.Engineer.max_consecutive_auto_reply", 'must be an integer ≥ 0, got "three"'),
    ("negative integer", change("agents.Engineer.max_consecutive_auto_reply", -1),
     "agents.Engineer.max_consecutive_auto_reply", "≥ 0, got -1"),
    ("wrong type: string", change("agents.Engineer.system_message", ["a", "b"]), "agents.Engineer.system_message",
     "must be a string"),
    ("bad human_input_mode", change("agents.Admin.human_input_mode", "SOMETIMES"), "agents.Admin.human_input_mode",
     "must be one of 'ALWAYS', 'TERMINATE' or 'NEVER'"),
    ("unknown agent class", change("agents.Admin.class", "SuperAgent"), "agents.Admin.class", "must be one of"),
    ("model reference to nothing", change("agents.Engineer.llm_config", "gpt5"), "agents.Engineer.llm_config",
     "no model named 'gpt5'; did you mean 'gpt'?"),
    ("llm_config of a wrong type", change("agents.Engineer.llm_config", 3), "agents.Engineer.llm_config",
     "must be the name of a model under models, or false"),
    ("group member not an agent", change("group_chats.team.agents.2", "Exec"), "group_chats.team.agents[2]",
     "no agent named 'Exec'"),
    ("transition to an agent not in the group", change("group_chats.team.allowed_or_disallowed_speaker_transitions.Critic", ["Reviewer"]),
     "group_chats.team.allowed_or_disallowed_speaker_transitions.Critic[0]", "'Reviewer' is not in this group chat"),
    ("transitions without their type", change("group_chats.team.speaker_transitions_type", "-"), "group_chats.team",
     "go together"),
    ("max_round 0", change("group_chats.team.max_round", 0), "group_chats.team.max_round", "≥ 1, got 0"),
    ("unknown speaker selection method", change("group_chats.team.speaker_selection_method", "best"),
     "group_chats.team.speaker_selection_method", "must be one of auto, manual, random, round_robin"),
    ("manager without a group chat", change("agents.manager.groupchat", "-"), "agents.manager.groupchat", "required"),
    ("manager of an unknown group chat", change("agents.manager.groupchat", "teem"), "agents.manager.groupchat",
     "no group chat named 'teem'; did you mean 'team'?"),
    ("a group chat inside itself", change("group_chats.team.agents", ["Admin", "manager"]), "group_chats.team.agents",
     "its own manager 'manager' can't be a member"),
    ("tool of an unknown agent", change("tools.calc.caller", "Enginer"), "tools.calc.caller", "did you mean 'Engineer'?"),
    ("tool function not an import path", change("tools.calc.function", "calculator"), "tools.calc.function",
     "must be an import path 'module:function'"),
    ("tool caller without a model", change("tools.calc.caller", "Admin"), "tools.calc.caller", "has no model"),
    ("literal API key", change("models.gpt.config_list", [{"model": "gpt-4o", "api_key": "sk-secret-123"}]),
     "models.gpt.config_list[0].api_key", "a literal API key can't be in a spec"),
    ("api_key reference of a wrong shape", change("models.gpt.config_list", [{"model": "gpt-4o", "api_key": {"name": "K"}}]),
     "models.gpt.config_list[0].api_key", "unknown key 'name'"),
    ("unsandboxed executor not asked for (a string)", change("agents.Executor.code_execution_config.use_docker", "false"),
     "agents.Executor.code_execution_config.use_docker", "write false (no quotes)"),
    ("unknown executor", change("agents.Executor.code_execution_config.executor", "chroot"),
     "agents.Executor.code_execution_config.executor", "must be one of 'local', 'sandbox', 'docker' or 'jupyter'"),
    ("termination with two tests", change("agents.Critic.is_termination_msg", {"ends_with": "X", "contains": "Y"}),
     "agents.Critic.is_termination_msg", "exactly one of"),
    ("termination function not an import path", change("agents.Critic.is_termination_msg", {"function": "lambda m: True"}),
     "agents.Critic.is_termination_msg", "must be an import path"),
    ("nested chat trigger unknown", change("agents.Critic.nested_chats.0.trigger", "Writer"),
     "agents.Critic.nested_chats[0].trigger", "no agent named 'Writer'"),
    ("run initiator unknown", change("run.initiator", "admin"), "run.initiator", "did you mean 'Admin'?"),
    ("run with recipient and chats", change("run.chats", [{"recipient": "Engineer"}]), "run", "not both or neither"),
    ("missing version", change("version", "-"), "version", "required (the current version is 1)"),
    ("version too new", change("version", 9), "version", "newer than this parley reads"),
    ("no agents", change("agents", {}), "agents", "at least 1 item"),
    ("cycle in prerequisites", change("run.chats.0.prerequisites", [2], sequential_document), "run.chats",
     "prerequisites form a cycle"),
    ("prerequisite of an unknown chat", change("run.chats.1.prerequisites", [7], sequential_document),
     "run.chats[1].prerequisites[0]", "no chat has chat_id 7"),
    ("duplicate chat ids", change("run.chats.1.chat_id", 1, sequential_document), "run.chats[1].chat_id",
     "also the id of chats[0]"),
]


@pytest.mark.parametrize("what, document, path, words", BAD, ids=[b[0] for b in BAD])
def test_a_bad_spec_names_the_path(what, document, path, words):
    with pytest.raises(SpecError) as caught:
        Team.from_dict(document)
    issues = [str(i) for i in caught.value.issues]
    assert any(i.startswith(path + ":") and words in i for i in issues), issues


@pytest.mark.parametrize("what, document, path, words", BAD[:12], ids=[b[0] for b in BAD[:12]])
def test_yaml_errors_carry_the_line_of_the_path(what, document, path, words):
    text = yaml.safe_dump(document, sort_keys=False)
    with pytest.raises(SpecError) as caught:
        Team.from_yaml(text)
    issue = next(i for i in caught.value.issues if i.path == ("" if path == "<document>" else path))
    if issue.message.startswith("unknown key"):
        needle = issue.message.split("'")[1] + ":"  # the unknown key's own line
    elif path.endswith("]"):
        needle = "- "  # a list item: its own line
    else:
        needle = path.split(".")[-1] + ":"
    assert issue.line is not None and needle in text.splitlines()[issue.line - 1], (issue, needle)


def test_the_base_documents_are_valid():
    assert Team.from_dict(team_document()).spec.agents["Engineer"].max_consecutive_auto_reply == 3
    assert len(Team.from_dict(sequential_document()).spec.run.chats) == 2


def test_a_literal_key_is_never_repeated_in_the_error():
    with pytest.raises(SpecError) as caught:
        Team.from_dict(change("models.gpt.config_list", [{"model": "gpt-4o", "api_key": "sk-secret-123"}]))
    assert "sk-secret-123" not in str(caught.value)


def test_malformed_yaml_gives_its_line():
    text = "version: 1\nagents:\n  a: {class: AssistantAgent\nrun: {initiator: a}\n"
    with pytest.raises(SpecError) as caught:
        Team.from_yaml(text)
    (issue,) = caught.value.issues
    assert "malformed YAML" in issue.message and issue.line == 4


def test_a_key_written_twice_is_named_with_its_line():
    text = "version: 1\nagents:\n  a: {class: AssistantAgent}\n  b: {}\n  a: {class: UserProxyAgent}\nrun: {initiator: a, recipient: b}\n"
    with pytest.raises(SpecError) as caught:
        Team.from_yaml(text)
    assert [str(i) for i in caught.value.issues] == ["agents.a (line 5): this key is written twice (the second would replace the first)"]


def test_tabs_in_yaml_give_their_line():
    with pytest.raises(SpecError) as caught:
        Team.from_yaml("version: 1\nagents:\n\ta: {}\n")
    assert caught.value.issues[0].line == 3


def test_a_spec_that_is_not_a_mapping():
    with pytest.raises(SpecError, match="a spec must be a mapping"):
        Team.from_yaml("- a\n- b\n")


def test_json_text_loads_as_yaml():
    assert Team.from_yaml(json.dumps(team_document())) == Team.from_dict(team_document())


def test_disallowed_import_is_refused_at_build_naming_the_path():
    team = Team.from_dict(change("tools.calc.function", "os:system"))  # loading imports nothing
    with pytest.raises(SpecError) as caught:
        team.build(model="scripted")
    assert str(caught.value).startswith("tools.calc.function: module 'os' is not allowed")
    assert "--allow-module os" in str(caught.value)


@pytest.mark.parametrize("path, words", [
    ("parley.spec.tools:Annotated", "is defined in module 'typing', which is not allowed"),
    ("parley.spec.tools:calculator.__globals__", "private and special names (__globals__) can't be imported"),
])
def test_an_allowed_module_does_not_allow_what_it_imported(path, words):
    with pytest.raises(SpecError) as caught:
        Team.from_dict(change("tools.calc.function", path)).build(model="scripted")
    assert str(caught.value).startswith("tools.calc.function: ") and words in str(caught.value)


def test_yaml_aliases_are_refused():
    text = "version: 1\nx: &a [1, 2]\ny: [*a, *a]\nagents: {a: {}}\nrun: {initiator: a, recipient: a}\n"
    with pytest.raises(SpecError, match="anchors and aliases"):
        Team.from_yaml(text)


def test_a_union_of_plain_types_is_one_message():
    with pytest.raises(SpecError) as caught:
        Team.from_dict(change("group_chats.team.allow_repeat_speaker", 3))
    assert [str(i) for i in caught.value.issues] == [
        "group_chats.team.allow_repeat_speaker: must be true or false, or a list, got 3"]


def test_a_scripted_build_of_a_team_without_models_dumps_back():
    document = sequential_document()
    built = Team.from_dict(document).build(model="scripted")  # the assistants get a stand-in model
    assert Team.from_agents(built.initiator, chat_queue=built.chat_queue).to_dict()["agents"] == document["agents"]


def test_missing_env_key_is_reported_at_build_naming_the_field(monkeypatch):
    monkeypatch.delenv("NO_SUCH_API_KEY", raising=False)
    team = Team.from_dict(change("models.gpt.config_list", [{"model": "gpt-4o", "api_key": {"env": "NO_SUCH_API_KEY"}}]))
    with pytest.raises(SpecError, match=r"^models\.gpt\.config_list\[0\]\.api_key: environment variable NO_SUCH_API_KEY is not set"):
        team.build()


def test_a_model_reference_that_resolves_to_nothing(monkeypatch):
    monkeypatch.setenv("OAI_CONFIG_LIST", json.dumps([{"model": "gpt-4o", "api_key": "sk-x"}]))
    team = Team.from_dict(team_document())  # filter_dict asks for gpt-4o-mini
    with pytest.raises(SpecError) as caught:
        team.build()
    assert str(caught.value).startswith("models.gpt.config_list: OAI_CONFIG_LIST has no entry matching filter_dict")
    assert "sk-x" not in str(caught.value)


def test_dumping_a_literal_key_refuses_naming_the_field():
    user = ConversableAgent("user", llm_config=False, human_input_mode="NEVER")
    assistant = AssistantAgent("assistant", llm_config={"config_list": [{"model": "gpt-4o", "api_key": "sk-live-999"}]})
    with pytest.raises(SpecError) as caught:
        Team.from_agents(user, assistant, message="hi")
    assert str(caught.value).startswith("agents.assistant.llm_config.config_list[0].api_key: a literal API key")
    assert "sk-live-999" not in str(caught.value)


def test_dumping_a_lambda_refuses_saying_what_to_use():
    user = ConversableAgent("user", llm_config=False, is_termination_msg=lambda m: "DONE" in (m.get("content") or ""))
    other = ConversableAgent("other", llm_config=False)
    with pytest.raises(SpecError) as caught:
        Team.from_agents(user, other, message="hi")
    text = str(caught.value)
    assert text.startswith("agents.user.is_termination_msg: a lambda can't be written in a spec")
    assert "{ends_with: WORD}" in text and "'module:function'" in text


def test_dumping_an_agent_class_of_its_own_refuses():
    class Mine(ConversableAgent):
        pass

    with pytest.raises(SpecError, match=r"^agents\.mine\.class: class Mine can't be written"):
        Team.from_agents(ConversableAgent("user", llm_config=False), Mine("mine", llm_config=False), message="hi")
