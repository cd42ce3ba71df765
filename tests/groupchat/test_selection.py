"""Speaker selection: every mode, transition graphs, auto retries, fallbacks, structured output."""

from __future__ import annotations

import random

import pytest

from parley import ConversableAgent, GroupChat, GroupChatManager, IOQueue, IOStream, events
from tests.groupchat.conftest import agent, scripted


def speakers(groupchat):
    return [m["name"] for m in groupchat.messages]


def run(groupchat, initiator=None, llm_config=False, message="start", **manager_kwargs):
    manager = GroupChatManager(groupchat, llm_config=llm_config, **manager_kwargs)
    initiator = initiator or groupchat.agents[0]
    result = initiator.initiate_chat(manager, message=message)
    return manager, result


def test_round_robin_follows_list_order(team):
    groupchat = GroupChat(team, max_round=6, speaker_selection_method="round_robin")
    run(groupchat)
    assert speakers(groupchat) == ["alice", "bob", "carol", "dave", "alice", "bob"]


def test_round_robin_from_an_outside_initiator_starts_at_the_first_agent(team):
    user = agent("user")
    groupchat = GroupChat(team, max_round=3, speaker_selection_method="Round_Robin")
    run(groupchat, initiator=user)
    assert speakers(groupchat) == ["user", "alice", "bob"]


def test_random_without_repeats_never_picks_the_same_speaker_twice(team):
    random.seed(7)
    groupchat = GroupChat(team, max_round=40, speaker_selection_method="random", allow_repeat_speaker=False)
    run(groupchat)
    names = speakers(groupchat)
    assert len(names) == 40 and set(names) == {"alice", "bob", "carol", "dave"}
    assert all(a != b for a, b in zip(names, names[1:]))


def test_manual_asks_the_human_by_number_or_name_and_falls_back_in_turn(team):
    groupchat = GroupChat(team, max_round=5, speaker_selection_method="manual")
    stream = IOQueue(["3", "bob", "", "nonsense", "q"])
    with IOStream.set_default(stream):
        run(groupchat)
    # "3" -> carol; "bob"; "" -> next in turn after bob; "nonsense" is refused, then "q" -> next in turn.
    assert speakers(groupchat) == ["alice", "carol", "bob", "carol", "dave"]
    assert "Invalid input. Please enter a number between 1 and 4.\n" in stream.printed
    assert len(stream.prompts) == 5


def test_manual_with_no_human_input_takes_the_next_in_turn(team):
    groupchat = GroupChat(team, max_round=3, speaker_selection_method="manual")
    with IOStream.set_default(IOQueue([])), events.capture(kinds=(events.Notice,)) as seen:
        run(groupchat)
    assert speakers(groupchat) == ["alice", "bob", "carol"]
    assert any("end of input" in n.text for n in seen.events)


def test_callable_may_return_an_agent_a_method_name_or_none(team):
    alice, bob, carol, dave = team
    calls = []

    def choose(last_speaker, groupchat):
        calls.append(last_speaker.name)
        if len(calls) == 1:
            return dave
        if len(calls) == 2:
            return "round_robin"  # after dave comes alice
        return None

    groupchat = GroupChat(team, max_round=10, speaker_selection_method=choose)
    with events.capture(kinds=(events.SpeakerSelected,)) as seen:
        run(groupchat)
    assert speakers(groupchat) == ["alice", "dave", "alice"]
    assert calls == ["alice", "dave", "alice"]
    assert [e.method for e in seen.events] == ["custom", "round_robin"]


async def test_async_callable_is_awaited(team):
    async def choose(last_speaker, groupchat):
        return team[2] if last_speaker is team[0] else None

    groupchat = GroupChat(team, max_round=10, speaker_selection_method=choose)
    manager = GroupChatManager(groupchat, llm_config=False)
    await team[0].a_initiate_chat(manager, message="hi")
    assert speakers(groupchat) == ["alice", "carol"]


def test_auto_asks_the_manager_model_and_emits_selection_events(team):
    config, selector = scripted(["bob", "dave", "carol"], usage=(50, 1), cost_per_call=0.001)
    groupchat = GroupChat(team, max_round=4)
    with events.capture(kinds=(events.ModelCalled, events.SpeakerSelected)) as seen:
        manager, result = run(groupchat, llm_config=config)
    assert speakers(groupchat) == ["alice", "bob", "dave", "carol"]
    calls = seen.of(events.ModelCalled)
    assert [c.purpose for c in calls] == ["speaker_selection"] * 3
    assert all(c.agent == "chat_manager" and c.prompt_tokens == 50 and c.cost == 0.001 for c in calls)
    assert [(e.speaker, e.method, e.round) for e in seen.of(events.SpeakerSelected)] == [
        ("bob", "auto", 1), ("dave", "auto", 2), ("carol", "auto", 3)
    ]
    assert result.cost["usage_including_cached_inference"]["total_cost"] == pytest.approx(0.003)


def test_auto_prompt_shows_roles_the_conversation_and_the_closing_prompt(team):
    team[1].description = "Bob reviews code."
    config, selector = scripted(["bob"])
    groupchat = GroupChat(team, max_round=2)
    run(groupchat, llm_config=config, message="please review")
    request = selector.requests[0]
    system, first, closing = request.messages
    assert system["role"] == "system" and "bob: Bob reviews code." in system["content"]
    assert "['alice', 'bob', 'carol', 'dave']" in system["content"]
    assert first == {"role": "user", "content": "alice: please review"}
    assert closing["role"] == "system" and closing["content"].startswith("Read the above conversation.")
    assert request.response_format is None  # the scripted entry is not the embedded model


def test_auto_reasks_on_no_name_and_on_several_names(team):
    config, selector = scripted(["I am not sure", "alice or bob?", "bob"])
    groupchat = GroupChat(team, max_round=2)
    run(groupchat, llm_config=config)
    assert speakers(groupchat) == ["alice", "bob"]
    assert selector.calls == 3
    second, third = selector.requests[1].messages, selector.requests[2].messages
    assert second[-2] == {"role": "assistant", "content": "I am not sure"}
    assert second[-1]["content"].startswith("You didn't choose a speaker.")
    assert third[-1]["content"].startswith("You provided more than one name")


def test_auto_falls_back_to_the_next_in_turn_after_the_retry_limit(team):
    config, selector = scripted(["no idea"])
    groupchat = GroupChat(team, max_round=2, max_retries_for_selecting_speaker=1)
    with events.capture(kinds=(events.Notice,)) as seen:
        run(groupchat, llm_config=config)
    assert selector.calls == 2
    assert speakers(groupchat) == ["alice", "bob"]
    assert any("'bob' speaks next in turn" in n.text for n in seen.events)


def test_auto_takes_the_most_mentioned_name_when_retries_run_out(team):
    config, selector = scripted(["carol, carol, and maybe dave"])
    groupchat = GroupChat(team, max_round=2, max_retries_for_selecting_speaker=0)
    run(groupchat, llm_config=config)
    assert speakers(groupchat) == ["alice", "carol"]


@pytest.mark.parametrize("answer", ["**Story_writer**", "story writer.", "The next speaker is Story\\_writer", '"Story_writer"'])
def test_auto_matches_names_robustly(answer):
    writer = agent("Story_writer")
    critic = agent("Critic")
    editor = agent("Editor")
    config, _ = scripted([answer])
    groupchat = GroupChat([editor, critic, writer], max_round=2)
    run(groupchat, llm_config=config)
    assert speakers(groupchat) == ["Editor", "Story_writer"]


def test_auto_matches_camel_case_names_written_as_words_and_word_boundaries():
    writer, scientist = agent("ResearchWriter"), agent("Scientist")
    planner = agent("Planner")
    config, _ = scripted(["The Research Writer should go next"])
    groupchat = GroupChat([planner, scientist, writer], max_round=2)
    run(groupchat, llm_config=config)
    assert speakers(groupchat) == ["Planner", "ResearchWriter"]


def test_structured_output_constrains_the_answer_to_the_candidates(team):
    config, selector = scripted(['{"speaker": "dave"}'])
    groupchat = GroupChat(team, max_round=2, allow_repeat_speaker=False, select_speaker_structured_output=True)
    run(groupchat, llm_config=config)
    assert speakers(groupchat) == ["alice", "dave"]
    schema = selector.requests[0].response_format["json_schema"]["schema"]
    assert schema["properties"]["speaker"]["enum"] == ["bob", "carol", "dave"]  # alice may not repeat
    assert schema["required"] == ["speaker"]


def test_structured_output_is_on_by_default_for_the_embedded_model_only(team):
    from parley.groupchat.auto import _wants_structured_output

    groupchat = GroupChat(team)

    class Wrapper:
        def __init__(self, entries):
            self.config_list = entries

    assert _wants_structured_output(groupchat, Wrapper([{"model": "m", "api_type": "local"}]))
    assert not _wants_structured_output(groupchat, Wrapper([{"model": "gpt-4o"}]))
    assert not _wants_structured_output(groupchat, Wrapper([{"api_type": "local"}, {"model": "gpt-4o"}]))
    groupchat.select_speaker_structured_output = True
    assert _wants_structured_output(groupchat, Wrapper([{"model": "gpt-4o"}]))


def test_auto_without_a_model_takes_the_next_in_turn_with_a_notice(team):
    groupchat = GroupChat(team, max_round=3)
    with events.capture(kinds=(events.Notice,)) as seen:
        run(groupchat, llm_config=False)
    assert speakers(groupchat) == ["alice", "bob", "carol"]
    assert any("needs a model" in n.text for n in seen.events)


def test_allowed_transitions_restrict_round_robin(team):
    alice, bob, carol, dave = team
    graph = {alice: [carol], carol: [dave, alice], dave: [alice]}
    groupchat = GroupChat(team, max_round=7, speaker_selection_method="round_robin",
                          allowed_or_disallowed_speaker_transitions=graph, speaker_transitions_type="allowed")
    run(groupchat)
    assert speakers(groupchat) == ["alice", "carol", "dave", "alice", "carol", "dave", "alice"]


def test_disallowed_transitions_restrict_auto_candidates_and_skip_the_model_for_one_candidate(team):
    alice, bob, carol, dave = team
    config, selector = scripted(["dave"])
    graph = {alice: [alice, bob, dave], carol: [carol]}
    groupchat = GroupChat(team, max_round=3, allowed_or_disallowed_speaker_transitions=graph,
                          speaker_transitions_type="DISALLOWED")
    run(groupchat, llm_config=config)
    # After alice only carol is allowed: no model call. After carol the model picks among the rest.
    assert speakers(groupchat) == ["alice", "carol", "dave"]
    assert selector.calls == 1
    assert "['alice', 'bob', 'dave']" in selector.requests[0].messages[0]["content"]


def test_a_custom_choice_overrides_the_graph_as_classic(team):
    alice, bob, carol, dave = team
    graph = {alice: [bob], bob: [alice]}
    groupchat = GroupChat([alice, bob], max_round=3, speaker_selection_method=lambda last, gc: last,
                          allowed_or_disallowed_speaker_transitions=graph, speaker_transitions_type="allowed")
    manager = GroupChatManager(groupchat, llm_config=False)
    alice.initiate_chat(manager, message="hi")
    assert [m["name"] for m in groupchat.messages] == ["alice", "alice", "alice"]


def test_a_speaker_no_one_may_follow_ends_the_chat_with_a_notice(team):
    alice, bob, carol, dave = team
    # dave is isolated (no edges): allowed, but if he opens the chat no one may follow him.
    graph = {alice: [bob], bob: [alice]}
    groupchat = GroupChat(team[:2] + [dave], max_round=5, speaker_selection_method="round_robin",
                          allowed_or_disallowed_speaker_transitions=graph, speaker_transitions_type="allowed")
    with events.capture(kinds=(events.Notice,)) as seen:
        run(groupchat, initiator=dave)
    assert speakers(groupchat) == ["dave"]
    assert any("no agent may speak after 'dave'" in n.text for n in seen.events)


def test_func_call_filter_gives_the_turn_to_the_agent_that_can_execute_the_call():
    call = {"content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}]}
    caller = ConversableAgent("caller", llm_config=scripted([call])[0], human_input_mode="NEVER")
    runner = agent("runner", function_map={"add": lambda: 3})
    bystander = agent("bystander")
    config, selector = scripted(["caller"])
    groupchat = GroupChat([bystander, caller, runner], max_round=4)
    run(groupchat, llm_config=config)
    names = speakers(groupchat)
    assert names[:3] == ["bystander", "caller", "runner"]
    assert groupchat.messages[2]["role"] == "tool" and groupchat.messages[2]["content"] == "3"
    # Only the selections with a choice asked the model; the tool turn went straight to the runner.
    assert selector.calls == 2


def test_select_speaker_sync_api_and_classic_helpers(team):
    alice, bob, carol, dave = team
    groupchat = GroupChat(team, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    assert groupchat.select_speaker(dave, manager) is alice
    assert groupchat.next_agent(bob, [alice, dave]) is dave
    assert groupchat.agent_names == ["alice", "bob", "carol", "dave"]
    assert groupchat.agent_by_name("carol") is carol and groupchat.agent_by_name("zed") is None
    assert groupchat._mentioned_agents("bob and bob and carol", None) == {"bob": 2, "carol": 1}
    assert groupchat.select_speaker_prompt([alice]) == (
        "Read the above conversation. Then select the next role from ['alice'] to play. Only return the role."
    )
    assert groupchat.introductions_msg().startswith(GroupChat.DEFAULT_INTRO_MSG)
