"""The manager's rounds: message shapes, broadcast, termination paths, resume, nested teams."""

from __future__ import annotations

import pytest

from parley import ConversableAgent, GroupChat, GroupChatManager, IOQueue, IOStream, UserProxyAgent, events
from tests.groupchat.conftest import agent, scripted


def speakers(groupchat):
    return [m["name"] for m in groupchat.messages]


def round_robin(agents, **kwargs):
    groupchat = GroupChat(agents, speaker_selection_method="round_robin", **kwargs)
    return groupchat, GroupChatManager(groupchat, llm_config=False)


def test_histories_have_the_classic_shapes(team):
    alice, bob, carol, dave = team
    groupchat, manager = round_robin(team[:3], max_round=4)
    result = alice.initiate_chat(manager, message="start")
    assert groupchat.messages == [
        {"content": "start", "role": "user", "name": "alice"},
        {"content": "bob here", "role": "user", "name": "bob"},
        {"content": "carol here", "role": "user", "name": "carol"},
        {"content": "alice here", "role": "user", "name": "alice"},
    ]
    assert result.chat_history == [
        {"content": "start", "role": "assistant", "name": "alice"},
        {"content": "bob here", "role": "user", "name": "bob"},
        {"content": "carol here", "role": "user", "name": "carol"},
        {"content": "alice here", "role": "assistant", "name": "alice"},
    ]
    assert bob.chat_messages[manager] == [
        {"content": "start", "role": "user", "name": "alice"},
        {"content": "bob here", "role": "assistant", "name": "bob"},
        {"content": "carol here", "role": "user", "name": "carol"},
        {"content": "alice here", "role": "user", "name": "alice"},
    ]
    assert manager.chat_messages[carol] == [
        {"content": "start", "role": "assistant", "name": "alice"},
        {"content": "bob here", "role": "assistant", "name": "bob"},
        {"content": "carol here", "role": "user", "name": "carol"},
        {"content": "alice here", "role": "assistant", "name": "alice"},
    ]
    assert result.summary == "alice here"
    assert manager.last_speaker is alice


def test_broadcast_shares_one_dict_and_emits_one_message_event_per_message(team):
    groupchat, manager = round_robin(team, max_round=5)
    with events.capture(kinds=(events.MessageSent,)) as seen:
        team[0].initiate_chat(manager, message="start")
    assert len(seen.events) == 5  # one per message, not one per receiver
    assert all(e.recipient == "chat_manager" for e in seen.events)
    alice, bob, carol, dave = team
    # carol's message (index 2) is one object in every other participant's history and the transcript.
    shared = groupchat.messages[2]
    assert alice.chat_messages[manager][2] is shared and bob.chat_messages[manager][2] is shared
    assert dave.chat_messages[manager][2] is shared
    assert manager.chat_messages[alice][2] is manager.chat_messages[dave][2]


def test_termination_message_ends_the_chat(team):
    alice, bob, carol, dave = team
    closer = agent("closer", ["all done", "TERMINATE"])
    groupchat, manager = round_robin([alice, closer, bob], max_round=20)
    alice.initiate_chat(manager, message="go")
    assert speakers(groupchat) == ["alice", "closer", "bob", "alice", "closer"]
    assert groupchat.messages[-1]["content"] == "TERMINATE"


def test_manager_termination_condition_is_its_own(team):
    groupchat = GroupChat(team, max_round=20, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False, is_termination_msg=lambda m: m["name"] == "carol")
    team[0].initiate_chat(manager, message="go")
    assert speakers(groupchat) == ["alice", "bob", "carol"]


def test_max_round_counts_every_message(team):
    groupchat, manager = round_robin(team, max_round=3)
    team[0].initiate_chat(manager, message="go")
    assert len(groupchat.messages) == 3


def test_a_human_typing_exit_ends_the_chat_and_an_answer_becomes_the_message(team):
    admin = UserProxyAgent("Admin", code_execution_config=False)
    groupchat, manager = round_robin([admin, *team[:2]], max_round=50)
    stream = IOQueue(["looks good, continue", "exit"])
    with IOStream.set_default(stream):
        result = admin.initiate_chat(manager, message="task")
    assert speakers(groupchat) == ["Admin", "alice", "bob", "Admin", "alice", "bob"]
    assert groupchat.messages[3]["content"] == "looks good, continue"
    assert stream.prompts[0].startswith("Replying as Admin. Provide feedback to chat_manager.")
    assert result.human_input == ["looks good, continue", "exit"]


def test_a_none_reply_ends_the_chat(team):
    quitter = ConversableAgent("quitter", llm_config=False, human_input_mode="NEVER")
    quitter.register_reply([ConversableAgent, None], lambda recipient, messages, sender, config: (True, None))
    groupchat, manager = round_robin([team[0], quitter, team[1]], max_round=10)
    team[0].initiate_chat(manager, message="go")
    assert speakers(groupchat) == ["alice"]


def test_a_code_executing_participant_runs_code_it_sees(tmp_path):
    engineer = agent("Engineer", ["```python\nprint(6 * 7)\n```"])
    executor = UserProxyAgent("Executor", human_input_mode="NEVER",
                              code_execution_config={"last_n_messages": 3, "work_dir": str(tmp_path), "use_docker": False})
    writer = agent("Writer", ["The answer is 42. TERMINATE"])
    groupchat, manager = round_robin([writer, engineer, executor], max_round=10)
    manager = GroupChatManager(groupchat, llm_config=False, is_termination_msg=lambda m: m["content"].endswith("TERMINATE"))
    writer.initiate_chat(manager, message="compute 6*7")
    assert speakers(groupchat) == ["Writer", "Engineer", "Executor", "Writer"]
    assert groupchat.messages[2]["content"] == "exitcode: 0 (execution succeeded)\nCode output: \n42\n"


def test_send_introductions_tells_everyone_who_is_there(team):
    groupchat = GroupChat(team[:3], max_round=2, speaker_selection_method="round_robin", send_introductions=True)
    manager = GroupChatManager(groupchat, llm_config=False)
    team[0].initiate_chat(manager, message="go")
    intro = team[1].chat_messages[manager][0]["content"]
    assert intro.startswith(GroupChat.DEFAULT_INTRO_MSG) and "carol: " in intro
    assert groupchat.messages[0]["content"] == "go"  # introductions are not part of the transcript


def test_clear_history_false_continues_the_transcript(team):
    groupchat, manager = round_robin(team[:2], max_round=2)
    team[0].initiate_chat(manager, message="one")
    team[0].initiate_chat(manager, message="two", clear_history=False)
    assert [m["content"] for m in groupchat.messages] == ["one", "bob here", "two", "bob here"]
    team[0].initiate_chat(manager, message="three")
    assert [m["content"] for m in groupchat.messages] == ["three", "bob here"]
    assert len(team[1].chat_messages[manager]) == 2


def test_enable_clear_history_clears_on_request(team):
    alice, bob, carol, dave = team
    clearer = agent("clearer", ["clear history please"])
    groupchat = GroupChat([alice, bob, clearer], max_round=5, speaker_selection_method="round_robin", enable_clear_history=True)
    manager = GroupChatManager(groupchat, llm_config=False)
    with IOStream.set_default(IOQueue()) as stream:
        alice.initiate_chat(manager, message="go")
    assert "Clearing history for all agents.\n" in stream.printed
    assert [m["content"] for m in groupchat.messages] == ["please", "alice here", "bob here"]


def test_manager_refuses_tools_and_defaults_to_no_model_for_fixed_methods(team):
    with pytest.raises(ValueError, match="not allowed to make function/tool calls"):
        GroupChatManager(GroupChat(team), llm_config={"model": "x", "api_key": "k", "tools": [{"type": "function"}]})
    assert GroupChatManager(GroupChat(team, speaker_selection_method="round_robin")).llm_config is False


def test_messages_to_and_from_string_round_trip(team):
    groupchat, manager = round_robin(team, max_round=4)
    team[0].initiate_chat(manager, message="go")
    saved = manager.messages_to_string(groupchat.messages)
    assert manager.messages_from_string(saved) == groupchat.messages
    with pytest.raises(ValueError, match="not valid JSON"):
        manager.messages_from_string("{nope")


def test_resume_rebuilds_every_history_and_continues(team):
    groupchat, manager = round_robin(team, max_round=5)
    team[0].initiate_chat(manager, message="go")
    saved = manager.messages_to_string(groupchat.messages)
    expected = {a.name: list(a.chat_messages[manager]) for a in team}

    fresh = [agent(n) for n in ("alice", "bob", "carol", "dave")]
    groupchat2, manager2 = round_robin(fresh, max_round=5)
    with IOStream.set_default(IOQueue()) as stream:
        last_agent, last_message = manager2.resume(saved)
    assert stream.printed == ["Prepared group chat with 5 messages, the last speaker is alice\n"]
    assert last_agent is fresh[0] and last_message["content"] == "alice here"
    assert len(groupchat2.messages) == 4
    # Everyone's history is what it was before the last message (own messages included).
    for a in fresh:
        assert a.chat_messages[manager2] == expected[a.name][:4]
    last_agent.initiate_chat(manager2, message=last_message, clear_history=False)
    assert speakers(groupchat2) == ["alice", "bob", "carol", "dave", "alice", "bob", "carol", "dave", "alice"]


def test_resume_removes_the_termination_string_and_validates_names(team):
    groupchat, manager = round_robin(team, max_round=5)
    messages = [{"content": "go", "role": "user", "name": "alice"}, {"content": "done TERMINATE", "role": "user", "name": "bob"}]
    manager = GroupChatManager(groupchat, llm_config=False, is_termination_msg=lambda m: "TERMINATE" in m["content"])
    with events.capture(kinds=(events.Notice,)) as seen:
        last_agent, last_message = manager.resume(messages, silent=True)
    assert any("termination condition" in n.text for n in seen.events)
    last_agent, last_message = manager.resume(messages, remove_termination_string="TERMINATE", silent=True)
    assert last_agent is team[1] and last_message["content"] == "done "
    assert messages[1]["content"] == "done TERMINATE"  # the caller's list is not modified
    with pytest.raises(ValueError, match=r"messages\[1\] is from 'mallory'"):
        manager.resume([{"content": "x", "name": "alice"}, {"content": "y", "name": "mallory"}])
    with pytest.raises(ValueError, match="no messages"):
        manager.resume([])


def test_a_group_chat_can_be_a_participant_of_another(team):
    alice, bob, carol, dave = team
    inner_chat = GroupChat([carol, dave], max_round=3, speaker_selection_method="round_robin")
    inner = GroupChatManager(inner_chat, name="inner_team", llm_config=False)
    outer_chat = GroupChat([alice, inner, bob], max_round=4, speaker_selection_method="round_robin")
    outer = GroupChatManager(outer_chat, llm_config=False)
    result = alice.initiate_chat(outer, message="solve it")
    assert speakers(outer_chat) == ["alice", "inner_team", "bob", "alice"]
    # The inner team saw the outer message, talked among themselves, and reported where it got to.
    assert speakers(inner_chat) == ["chat_manager", "carol", "dave"]
    assert inner_chat.messages[0]["content"] == "solve it"
    assert outer_chat.messages[1]["content"] == "dave here"
    assert result.summary == "alice here"
    assert outer_chat.agent_by_name("dave", recursive=True) is dave


async def test_async_group_chat(team):
    groupchat, manager = round_robin(team, max_round=4)
    result = await team[0].a_initiate_chat(manager, message="go")
    assert speakers(groupchat) == ["alice", "bob", "carol", "dave"]
    assert result.summary == "dave here"


def test_manager_cache_is_lent_to_participants_for_the_run(team):
    class Cache(dict):
        def set(self, key, value):
            self[key] = value

    cache = Cache()
    talker = agent("talker", ["hello"])
    groupchat, manager = round_robin([team[0], talker], max_round=2)
    team[0].initiate_chat(manager, message="go", cache=cache)
    assert len(cache) == 1  # the participant's model call went through the manager's cache
    assert talker.client_cache is None


def test_histories_read_mid_chat_are_up_to_date(team):
    """Participants' histories catch up lazily; the public accessors never show a stale one."""
    alice, bob, carol, dave = team
    seen = []

    def pick(last_speaker, groupchat):
        # dave never speaks, so only the accessors can have brought his history up to date.
        seen.append((dave.last_message(manager)["content"], len(dave.chat_messages[manager]),
                     len(manager.chat_messages[dave]), groupchat.messages[-1]["content"]))
        return {alice: bob, bob: carol, carol: alice}[last_speaker]

    groupchat = GroupChat(team, max_round=5, speaker_selection_method=pick)
    manager = GroupChatManager(groupchat, llm_config=False)
    alice.initiate_chat(manager, message="start")
    assert seen == [("start", 1, 1, "start"), ("bob here", 2, 2, "bob here"),
                    ("carol here", 3, 3, "carol here"), ("alice here", 4, 4, "alice here")]
    assert [m["content"] for m in dave.chat_messages[manager]] == [m["content"] for m in groupchat.messages]


def test_tool_responses_reach_every_later_prompt_as_tool_messages():
    """A tool-responses message joins other agents' prompts as individual tool messages, also
    when it arrives among many plain messages at once."""
    call = {"content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}]}
    caller = ConversableAgent("caller", llm_config=scripted([call, "done"])[0], human_input_mode="NEVER")
    runner = agent("runner", function_map={"add": lambda: 3})
    config, watcher_model = scripted(["noted"])
    watcher = ConversableAgent("watcher", llm_config=config, human_input_mode="NEVER")
    others = [agent(f"extra{i}") for i in range(3)]
    starter = agent("starter")
    # The watcher speaks before the call (its prompt is cached then) and after it.
    groupchat = GroupChat([starter, watcher, caller, runner, *others], max_round=9, speaker_selection_method="round_robin")
    manager = GroupChatManager(groupchat, llm_config=False)
    starter.initiate_chat(manager, message="add please")
    assert [m["name"] if m.get("role") != "tool" else "tool" for m in groupchat.messages] == [
        "starter", "watcher", "caller", "tool", "extra0", "extra1", "extra2", "starter", "watcher"]
    prompt = watcher_model.requests[1].messages
    assert [m.get("role") for m in prompt] == ["system", "user", "assistant", "assistant", "tool", "user", "user", "user", "user"]
    assert prompt[4]["tool_call_id"] == "c1" and prompt[4]["content"] == "3"
    assert not any("tool_responses" in m for m in prompt)
