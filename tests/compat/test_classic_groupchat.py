"""Classic GroupChat steps as classic code drives them (``autogen`` -> ``parley``): judging a
selector's answer, reading a selection result, who may execute a pending call, resuming."""

from __future__ import annotations

import logging

import pytest

from parley import ChatResult, ConversableAgent, GroupChat, GroupChatManager


def agent(name: str, **kwargs) -> ConversableAgent:
    return ConversableAgent(name, llm_config=False, human_input_mode="NEVER", default_auto_reply=f"{name} here", **kwargs)


def team() -> tuple[GroupChat, list[ConversableAgent]]:
    agents = [agent("Planner"), agent("Coder", function_map={"run": lambda: "ran"})]
    return GroupChat(agents=agents, messages=[], max_round=3, role_for_select_speaker_messages="user"), agents


def test_validate_speaker_name_selects_reasks_and_gives_up_as_classic():
    groupchat, agents = team()
    messages = [{"role": "user", "content": "**Coder** should go next."}]
    assert groupchat._validate_speaker_name(None, messages, None, None, 2, 1, agents) == (True, None)
    assert messages[-1] == {"role": "user", "content": "[AGENT SELECTED]Coder"}

    messages = [{"role": "user", "content": "Planner, then Coder"}]
    assert groupchat._validate_speaker_name(None, messages, None, None, 1, 1, agents) == (True, {
        "content": groupchat.select_speaker_auto_multiple_template.format(agentlist="['Planner', 'Coder']"),
        "name": "checking_agent",
        "override_role": "user",
    })
    assert len(messages) == 1  # nothing appended while attempts are left

    messages = [{"role": "user", "content": "nobody"}]
    assert groupchat._validate_speaker_name(None, messages, None, None, 0, 3, agents) == (True, None)
    assert messages[-1]["content"] == ("[AGENT SELECTION FAILED]Select speaker attempt #3 of 3 failed as it did not "
                                       "include any agent names.")


def test_process_speaker_selection_result_reads_the_marker_or_takes_the_next():
    groupchat, (planner, coder) = team()
    chosen = ChatResult(chat_history=[{"role": "user", "content": "[AGENT SELECTED]Coder"}])
    failed = ChatResult(chat_history=[{"role": "user", "content": "[AGENT SELECTION FAILED]no names"}])
    assert groupchat._process_speaker_selection_result(chosen, planner, [planner, coder]) is coder
    assert groupchat._process_speaker_selection_result(failed, coder, [planner, coder]) is planner


def test_pending_call_nobody_can_execute_is_classics_error():
    groupchat = GroupChat(agents=[agent("a"), agent("b")], messages=[], max_round=3)
    groupchat.messages = [{"role": "assistant", "content": None, "function_call": {"name": "get_number", "arguments": "{}"}}]
    with pytest.raises(ValueError, match=r"No agent can execute the function get_number\. Please check the function_map"):
        groupchat._prepare_and_select_agents(groupchat.agents[1])
    groupchat, (planner, coder) = team()
    groupchat.messages = [{"role": "assistant", "content": None, "function_call": {"name": "run", "arguments": "{}"}}]
    assert groupchat._prepare_and_select_agents(planner) == (coder, [coder], None)


def test_resume_checks_and_termination_warning(caplog):
    groupchat, _ = team()
    manager = GroupChatManager(groupchat, llm_config=False, is_termination_msg=lambda m: "TERMINATE" in (m.get("content") or ""))
    with pytest.raises(ValueError, match="no messages to resume"):
        manager._valid_resume_messages([])
    with pytest.raises(ValueError, match="'Chairperson', which is not an agent"):
        manager._valid_resume_messages([{"role": "assistant", "name": "Chairperson", "content": "hi"}])
    manager._valid_resume_messages([{"role": "system", "content": "s"}, {"role": "assistant", "name": "Coder", "content": "x"}])

    messages = [{"role": "assistant", "name": "Coder", "content": "Done. APPROVED TERMINATE"}]
    manager._process_resume_termination(lambda text: text.replace("APPROVED", ""), messages)
    assert messages[-1]["content"] == "Done.  TERMINATE"
    assert "Last message meets termination criteria" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        manager._process_resume_termination("TERMINATE", messages)
    assert messages[-1]["content"] == "Done.  " and "termination criteria" not in caplog.text


def test_mentioned_agents_matches_names_in_their_own_case():
    groupchat = GroupChat(agents=[agent("Story_writer"), agent("Product_manager")], messages=[], max_round=3)
    assert groupchat._mentioned_agents("Story writer will follow the Product\\_manager.", None) == {
        "Story_writer": 1, "Product_manager": 1}
    assert groupchat._mentioned_agents("Story Writer will follow the product\\_manager.", None) == {}


def test_append_oai_message_honours_override_role():
    checker, selector = agent("checker"), agent("selector")
    prompt = {"content": "Pick one.", "override_role": "system"}
    assert checker._append_oai_message(prompt, "assistant", selector, is_sending=True)
    assert checker._append_oai_message("Coder", "user", selector, is_sending=False)
    assert not checker._append_oai_message({"content": None}, "user", selector, is_sending=False)
    assert checker.chat_messages[selector] == [
        {"content": "Pick one.", "role": "system", "name": "checker"},
        {"content": "Coder", "role": "user", "name": "selector"},
    ]


def test_clear_history_for_one_agent_and_keeping_a_tool_call_with_its_responses():
    alice, bob = agent("alice"), agent("bob")
    groupchat = GroupChat(agents=[alice, bob], messages=[], max_round=3, enable_clear_history=True)
    manager = GroupChatManager(groupchat, llm_config=False)
    alice._oai_messages[manager].extend([{"content": "one", "role": "user", "name": "bob"},
                                         {"content": "two", "role": "user", "name": "bob"}])
    # "How" after the agent's name names nobody: bob stays the one whose history is cleared.
    assert manager.clear_agents_history({"content": "clear history bob. How are you?"}, groupchat) == "How are you?"
    bob._oai_messages[manager].extend([
        {"content": "hi", "role": "user", "name": "alice"},
        {"content": None, "role": "assistant",
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": ""}}]},
        {"content": "done", "role": "tool", "name": "bob",
         "tool_responses": [{"tool_call_id": "c1", "role": "tool", "content": "done"}]},
    ])
    bob.clear_history(nr_messages_to_preserve=1)
    assert [m.get("role") for m in bob.chat_messages[manager]] == ["assistant", "tool"]  # the call stays with its response
    assert len(alice.chat_messages[manager]) == 2


def test_validate_speaker_name_says_each_attempt_and_re_asks_with_the_right_template(capsys):
    agents = [agent("Planner"), agent("Coder")]
    groupchat = GroupChat(agents=agents, messages=[], max_round=3, select_speaker_auto_verbose=True,
                          select_speaker_auto_multiple_template="one of {agentlist}, not several",
                          select_speaker_auto_none_template="one of {agentlist}, please")
    assert groupchat._validate_speaker_name(None, [{"content": "Coder"}], None, None, 2, 1, agents) == (True, None)
    messages = [{"role": "user", "content": "nobody"}]
    assert groupchat._validate_speaker_name(None, messages, None, None, 1, 2, agents) == (True, {
        "content": "one of ['Planner', 'Coder'], please", "name": "checking_agent", "override_role": "system"})
    messages = [{"role": "user", "content": "Planner or Coder"}]
    assert groupchat._validate_speaker_name(None, messages, None, None, 1, 2, agents)[1]["content"] == (
        "one of ['Planner', 'Coder'], not several")
    assert groupchat._validate_speaker_name(None, messages, None, None, 0, 3, agents) == (True, None)
    assert messages[-1] == {"role": "user", "content": (
        "[AGENT SELECTION FAILED]Select speaker attempt #3 of 3 failed as it returned multiple names.")}
    assert [line for line in capsys.readouterr().out.splitlines() if line.startswith(">>>>>>>>")] == [
        ">>>>>>>> Select speaker attempt 1 of 3 successfully selected: Coder",
        ">>>>>>>> Select speaker attempt 2 of 3 failed as it did not include any agent names.",
        ">>>>>>>> Select speaker attempt 2 of 3 failed as it included multiple agent names.",
        ">>>>>>>> Select speaker attempt 3 of 3 failed as it included multiple agent names.",
    ]


def test_a_selection_result_names_its_agent_and_a_failure_moves_on_among_the_given_agents():
    planner, coder, critic = agent("Planner"), agent("Coder"), agent("Critic")
    groupchat = GroupChat(agents=[planner, coder, critic], messages=[], max_round=3)
    chosen = ChatResult(chat_history=[{"role": "user", "content": "[AGENT SELECTED]Planner"}])
    assert groupchat._process_speaker_selection_result(chosen, planner, None) is planner  # not simply the next
    failed = ChatResult(chat_history=[{"role": "user", "content": None}])
    assert groupchat._process_speaker_selection_result(failed, planner, None) is coder
    assert groupchat._process_speaker_selection_result(failed, planner, [planner, critic]) is critic
    assert groupchat._process_speaker_selection_result(ChatResult(chat_history=[]), planner, None) is None
