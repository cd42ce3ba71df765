"""Bad group-chat configurations fail at once, naming the agent or the edge."""

from __future__ import annotations

import pytest

from parley import GroupChat, GroupChatManager
from tests.groupchat.conftest import agent


def test_duplicate_agent_names_are_accepted_and_conflict_on_lookup(team, caplog):
    # Classic accepts duplicate names; a lookup that must be unambiguous raises AgentNameConflict.
    from parley.exception_utils import AgentNameConflict

    groupchat = GroupChat([*team, agent("alice")])
    assert "agents[0] and agents[4] are both named 'alice'" in caplog.text
    assert groupchat.agent_by_name("alice") is team[0]
    with pytest.raises(AgentNameConflict):
        groupchat.agent_by_name("alice", raise_on_name_conflict=True)


def test_participants_must_be_agents():
    with pytest.raises(TypeError, match=r"agents\[1\] must be a ConversableAgent"):
        GroupChat([agent("a"), "b"])
    with pytest.raises(TypeError, match="agents must be a list"):
        GroupChat(agent("a"))


def test_graph_naming_an_agent_outside_the_chat(team):
    alice, bob, carol, dave = team
    with pytest.raises(ValueError, match="the edge 'alice' -> 'dave' names 'dave', which is not an agent"):
        GroupChat([alice, bob, carol], allowed_or_disallowed_speaker_transitions={alice: [bob, dave]},
                  speaker_transitions_type="allowed")
    with pytest.raises(ValueError, match="'dave' is not an agent of this group chat"):
        GroupChat([alice, bob], allowed_or_disallowed_speaker_transitions={dave: [bob]}, speaker_transitions_type="disallowed")


def test_allowed_graph_with_no_way_forward(team, caplog):
    # Classic accepts a dead end (the chat ends when it is reached); parley says so when the chat is built.
    alice, bob, carol, dave = team
    GroupChat(team[:3], allowed_or_disallowed_speaker_transitions={alice: [bob], bob: [carol]},
              speaker_transitions_type="allowed")
    assert "'carol' can be chosen to speak (after 'bob') but has no allowed next speaker" in caplog.text
    with pytest.raises(ValueError, match="leaves no transition at all"):
        GroupChat(team[:2], allowed_or_disallowed_speaker_transitions={alice: [], bob: []}, speaker_transitions_type="allowed")


def test_graph_settings_that_contradict(team):
    alice, bob = team[:2]
    with pytest.raises(ValueError, match="speaker_transitions_type is None"):
        GroupChat(team[:2], allowed_or_disallowed_speaker_transitions={alice: [bob], bob: [alice]})
    with pytest.raises(ValueError, match="not both"):
        GroupChat(team[:2], allowed_or_disallowed_speaker_transitions={alice: [bob], bob: [alice]},
                  speaker_transitions_type="allowed", allow_repeat_speaker=False)
    with pytest.raises(ValueError, match="speaker_transitions_type must be"):
        GroupChat(team[:2], allowed_or_disallowed_speaker_transitions={alice: [bob]}, speaker_transitions_type="maybe")
    with pytest.raises(TypeError, match=r"transitions\['alice'\] must be a list"):
        GroupChat(team[:2], allowed_or_disallowed_speaker_transitions={alice: bob}, speaker_transitions_type="allowed")


def test_bad_method_and_limits(team):
    # The method is checked when a speaker is selected, as classic does.
    groupchat = GroupChat(team, speaker_selection_method="loudest")
    with pytest.raises(ValueError, match="speaker_selection_method must be one of auto, manual, random, round_robin"):
        team[0].initiate_chat(GroupChatManager(groupchat, llm_config=False), message="hi")
    for bad in (-1, 0, 2.5, True, "10"):
        with pytest.raises(ValueError, match=r"max_round must be a positive int .*got " + repr(bad).replace(".", r"\.")):
            GroupChat(team, max_round=bad)
    assert GroupChat(team, max_round=1).max_round == 1
    with pytest.raises(ValueError, match="max_retries_for_selecting_speaker"):
        GroupChat(team, max_retries_for_selecting_speaker=None)
    with pytest.raises(ValueError, match="allow_repeat_speaker names 'zed'"):
        GroupChat(team, allow_repeat_speaker=[agent("zed")])


@pytest.mark.parametrize("returned, message", [
    (42, r"returned 42 \(int\); it must return an agent of the group chat"),
    ("loudest", r"returned 'loudest' \(str\)"),
])
def test_callable_returning_something_that_is_not_an_agent(team, returned, message):
    groupchat = GroupChat(team, speaker_selection_method=lambda last, gc: returned)
    manager = GroupChatManager(groupchat, llm_config=False)
    with pytest.raises(TypeError, match=message):
        team[0].initiate_chat(manager, message="hi")


def test_callable_returning_an_agent_outside_the_chat(team):
    outsider = agent("outsider")
    groupchat = GroupChat(team, speaker_selection_method=lambda last, gc: outsider)
    manager = GroupChatManager(groupchat, llm_config=False)
    with pytest.raises(ValueError, match="returned the agent 'outsider', which is not a participant"):
        team[0].initiate_chat(manager, message="hi")


def test_a_group_of_one_is_refused_when_it_runs():
    solo = agent("solo")
    manager = GroupChatManager(GroupChat([solo], speaker_selection_method="round_robin"), llm_config=False)
    with pytest.raises(ValueError, match="GroupChat has 1 agent"):
        solo.initiate_chat(manager, message="hi")


def test_manager_needs_a_group_chat():
    with pytest.raises(TypeError, match="groupchat must be a GroupChat"):
        GroupChatManager([agent("a")])


def test_tool_call_no_one_can_execute(team):
    call = {"content": None, "tool_calls": [{"id": "1", "type": "function", "function": {"name": "nuke", "arguments": "{}"}}]}
    groupchat = GroupChat(team, messages=[call], speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    with pytest.raises(ValueError, match=r"No agent can execute the function nuke\. Please check the function_map"):
        groupchat.select_speaker(team[0], manager)
