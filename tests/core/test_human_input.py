"""Human input modes through a scripted input stream."""

from __future__ import annotations

import pytest

from parley import AssistantAgent, IOQueue, IOStream, UserProxyAgent, events
from tests.conftest import scripted_config


def pair(mode, replies, **kwargs):
    assistant = AssistantAgent("assistant", llm_config=scripted_config(replies))
    user = UserProxyAgent("user", human_input_mode=mode, code_execution_config=False, **kwargs)
    return user, assistant


def test_always_asks_every_turn_and_exit_ends():
    user, assistant = pair("ALWAYS", ["first", "second"])
    stream = IOQueue(["tell me more", "exit"])
    with IOStream.set_default(stream):
        result = user.initiate_chat(assistant, message="hi")
    assert len(stream.prompts) == 2
    assert "Replying as user" in stream.prompts[0]
    assert [m["content"] for m in result.chat_history] == ["hi", "first", "tell me more", "second"]
    assert result.human_input == ["tell me more", "exit"]


def test_always_empty_answer_means_auto_reply():
    user, assistant = pair("ALWAYS", ["first", "second"], default_auto_reply="(auto)")
    with IOStream.set_default(IOQueue(["", "exit"])):
        result = user.initiate_chat(assistant, message="hi")
    assert [m["content"] for m in result.chat_history] == ["hi", "first", "(auto)", "second"]


def test_terminate_mode_asks_only_on_termination_message():
    user, assistant = pair("TERMINATE", ["working", "done TERMINATE"],
                           is_termination_msg=lambda m: "TERMINATE" in (m.get("content") or ""))
    stream = IOQueue([""])
    with IOStream.set_default(stream):
        result = user.initiate_chat(assistant, message="task")
    assert len(stream.prompts) == 1 and "Press enter or type 'exit'" in stream.prompts[0]
    assert result.chat_history[-1]["content"] == "done TERMINATE"


def test_terminate_mode_human_answer_continues_the_chat():
    user, assistant = pair("TERMINATE", ["done TERMINATE", "really done TERMINATE"],
                           is_termination_msg=lambda m: "TERMINATE" in (m.get("content") or ""))
    with IOStream.set_default(IOQueue(["please also check", "exit"])):
        result = user.initiate_chat(assistant, message="task")
    assert [m["content"] for m in result.chat_history] == ["task", "done TERMINATE", "please also check", "really done TERMINATE"]


def test_terminate_mode_asks_when_auto_reply_limit_reached():
    user, assistant = pair("TERMINATE", ["more"], max_consecutive_auto_reply=1, default_auto_reply="auto")
    stream = IOQueue(["exit"])
    with IOStream.set_default(stream):
        result = user.initiate_chat(assistant, message="task")
    assert len(stream.prompts) == 1 and "Press enter to skip" in stream.prompts[0]
    assert [m["content"] for m in result.chat_history] == ["task", "more", "auto", "more"]


def test_never_mode_never_asks():
    user, assistant = pair("NEVER", ["x"], max_consecutive_auto_reply=2)
    stream = IOQueue([])
    with IOStream.set_default(stream), events.capture(kinds=(events.ChatFinished,)) as captured:
        result = user.initiate_chat(assistant, message="task")
    assert stream.prompts == [] and result.human_input == []
    # The user auto-replied (its default, empty) exactly max_consecutive_auto_reply times, then
    # stopped after the assistant's third answer instead of asking anyone.
    assert [(m["name"], m["content"]) for m in result.chat_history] == [
        ("user", "task"), ("assistant", "x"), ("user", ""), ("assistant", "x"), ("user", ""), ("assistant", "x")]
    assert [e.reason for e in captured.events] == ["completed"]


def test_end_of_input_ends_the_chat_cleanly():
    user, assistant = pair("ALWAYS", ["first"])
    with IOStream.set_default(IOQueue([])), events.capture() as captured:
        result = user.initiate_chat(assistant, message="hi")
    assert [m["content"] for m in result.chat_history] == ["hi", "first"]
    assert any("end of input" in e.text for e in captured.of(events.Notice))


def test_human_input_events_and_overridden_get_human_input():
    class Scripted(UserProxyAgent):
        def get_human_input(self, prompt):
            return "exit"

    assistant = AssistantAgent("assistant", llm_config=scripted_config(["x"]))
    user = Scripted("user", code_execution_config=False)
    with events.capture() as captured:
        user.initiate_chat(assistant, message="hi")
    requested = captured.of(events.HumanInputRequested)
    received = captured.of(events.HumanInputReceived)
    assert len(requested) == 1 and received[0].reply == "exit"


def test_no_initial_message_asks_the_human():
    user, assistant = pair("NEVER", ["ok TERMINATE"])
    with IOStream.set_default(IOQueue(["typed task"])):
        result = user.initiate_chat(assistant)
    assert result.chat_history[0]["content"] == "typed task"


def test_human_reply_answers_pending_tool_calls():
    call = {"content": None, "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
    user, assistant = pair("ALWAYS", [call, "fine"])
    with IOStream.set_default(IOQueue(["no, don't", "exit"])):
        result = user.initiate_chat(assistant, message="hi")
    human = result.chat_history[2]
    assert human["content"] == "no, don't"
    assert human["tool_responses"] == [{"role": "tool", "tool_call_id": "t1", "content": "USER INTERRUPTED"}]


def test_end_of_input_at_the_opening_prompt_sends_nothing():
    # Classic raises EOFError from input(); sending a stand-in such as "exit" would make a model call.
    user, assistant = pair("NEVER", ["should not be asked"])
    with IOStream.set_default(IOQueue([])), events.capture(kinds=(events.MessageSent, events.ModelCalled)) as captured:
        with pytest.raises(EOFError, match="opening message"):
            user.initiate_chat(assistant)
    assert captured.events == []


def _is_done(message):
    return "TERMINATE" in (message.get("content") or "")


def test_always_mode_enter_on_a_termination_message_ends_the_chat():
    user, assistant = pair("ALWAYS", ["done TERMINATE", "never sent"], is_termination_msg=_is_done)
    stream = IOQueue([""])
    with IOStream.set_default(stream), events.capture(kinds=(events.TerminationChecked, events.Notice)) as seen:
        result = user.initiate_chat(assistant, message="hi")
    assert [m["content"] for m in result.chat_history] == ["hi", "done TERMINATE"]
    assert stream.prompts == [
        ("Replying as user. Provide feedback to assistant. Press enter to skip and use auto-reply, "
        "or type 'exit' to end the conversation: ")]
    # Enter here means exit (not "no input"): no notice, the chat ends as the human's choice.
    assert [(type(e).__name__, getattr(e, "reason", None) or e.text) for e in seen.events] == [
        ("TerminationChecked", "human_exit")]


def test_terminate_mode_prompts_in_full():
    user, assistant = pair("TERMINATE", ["done TERMINATE"], is_termination_msg=_is_done)
    stream = IOQueue([""])
    with IOStream.set_default(stream):
        user.initiate_chat(assistant, message="task")
    assert stream.prompts == ["Please give feedback to assistant. Press enter or type 'exit' to stop the conversation: "]
    user, assistant = pair("TERMINATE", ["more"], max_consecutive_auto_reply=1, default_auto_reply="auto")
    stream = IOQueue(["exit"])
    with IOStream.set_default(stream):
        user.initiate_chat(assistant, message="task")
    assert stream.prompts == [("Please give feedback to assistant. Press enter to skip and use auto-reply, "
                              "or type 'exit' to stop the conversation: ")]


def test_at_the_auto_reply_limit_enter_on_a_termination_message_ends_the_chat():
    user, assistant = pair("TERMINATE", ["more", "done TERMINATE", "never sent"], max_consecutive_auto_reply=1,
                           default_auto_reply="auto", is_termination_msg=_is_done)
    stream = IOQueue([""])
    with IOStream.set_default(stream):
        result = user.initiate_chat(assistant, message="task")
    assert [m["content"] for m in result.chat_history] == ["task", "more", "auto", "done TERMINATE"]
    assert stream.prompts == ["Please give feedback to assistant. Press enter or type 'exit' to stop the conversation: "]


def test_never_mode_stops_at_the_limit_or_a_termination_message_and_says_why():
    user, assistant = pair("NEVER", ["one", "two", "three"], max_consecutive_auto_reply=2, default_auto_reply="auto")
    with events.capture(kinds=(events.TerminationChecked,)) as seen:
        result = user.initiate_chat(assistant, message="task")
    assert [m["content"] for m in result.chat_history] == ["task", "one", "auto", "two", "auto", "three"]
    assert [(e.agent, e.reason) for e in seen.events] == [("user", "max_consecutive_auto_reply")]
    # The count starts again after the stop: the next chat gets its two auto-replies too.
    assert user._consecutive_auto_reply_counter[assistant] == 0

    user, assistant = pair("NEVER", ["done TERMINATE"], is_termination_msg=_is_done)
    with events.capture(kinds=(events.TerminationChecked,)) as seen:
        result = user.initiate_chat(assistant, message="task")
    assert [m["content"] for m in result.chat_history] == ["task", "done TERMINATE"]
    assert [(e.agent, e.reason) for e in seen.events] == [("user", "termination_message")]


def test_the_check_reads_the_sender_s_messages_when_none_are_given():
    user, assistant = pair("NEVER", ["x"], is_termination_msg=_is_done)
    user._oai_messages[assistant] = [{"role": "user", "content": "done TERMINATE"}]
    assert user.check_termination_and_human_reply(None, assistant) == (True, None)
    user._oai_messages[assistant] = [{"role": "user", "content": "go on"}]
    assert user.check_termination_and_human_reply(None, assistant) == (False, None)
    assert user.check_termination_and_human_reply(None, None) == (False, None)  # no sender, no messages
    assert None not in user.chat_messages  # asking without a sender makes no conversation with "None"


def test_a_mode_that_asks_asks_even_with_no_messages():
    user, _ = pair("ALWAYS", ["unused"])
    stream = IOQueue(["hello"])
    with IOStream.set_default(stream):
        assert user.check_termination_and_human_reply(None, None) == (True, {"role": "user", "content": "hello"})
    assert len(stream.prompts) == 1


# The mode logic on its own, through the classic public reply function: what each answer returns,
# announces and does to the auto-reply count.

def _notices(captured):
    return [e.text for e in captured.of(events.Notice)]


def test_an_empty_answer_is_announced_and_counted_as_an_auto_reply():
    user, assistant = pair("ALWAYS", ["unused"])
    stream = IOQueue(["", ""])
    with IOStream.set_default(stream), events.capture(kinds=(events.Notice,)) as seen:
        assert user.check_termination_and_human_reply([{"role": "user", "content": "hi"}], assistant) == (False, None)
        assert user._consecutive_auto_reply_counter[assistant] == 1
        assert user.check_termination_and_human_reply([{"role": "user", "content": "hi"}], assistant) == (False, None)
    assert user._consecutive_auto_reply_counter[assistant] == 2
    assert _notices(seen) == ["NO HUMAN INPUT RECEIVED.", "USING AUTO REPLY..."] * 2


def test_terminate_mode_below_the_limit_auto_replies_without_asking():
    user, assistant = pair("TERMINATE", ["unused"], is_termination_msg=_is_done)
    stream = IOQueue([])
    with IOStream.set_default(stream), events.capture(kinds=(events.Notice,)) as seen:
        assert user.check_termination_and_human_reply([{"role": "user", "content": "go"}], assistant) == (False, None)
    assert stream.prompts == [] and _notices(seen) == ["USING AUTO REPLY..."]
    assert user._consecutive_auto_reply_counter[assistant] == 1


def test_at_the_limit_enter_on_an_ordinary_message_is_an_auto_reply():
    user, assistant = pair("TERMINATE", ["unused"], max_consecutive_auto_reply=1, is_termination_msg=_is_done)
    user._consecutive_auto_reply_counter[assistant] = 1
    with IOStream.set_default(IOQueue([""])), events.capture(kinds=(events.Notice, events.TerminationChecked)) as seen:
        assert user.check_termination_and_human_reply([{"role": "user", "content": "go"}], assistant) == (False, None)
    assert [type(e).__name__ for e in seen.events] == ["Notice", "Notice"]
    assert _notices(seen) == ["NO HUMAN INPUT RECEIVED.", "USING AUTO REPLY..."]


def test_at_the_limit_an_answer_to_a_termination_message_is_sent_and_resets_the_count():
    user, assistant = pair("TERMINATE", ["unused"], max_consecutive_auto_reply=1, is_termination_msg=_is_done)
    user._consecutive_auto_reply_counter[assistant] = 1
    with IOStream.set_default(IOQueue(["go on"])), events.capture(kinds=(events.Notice,)) as seen:
        reply = user.check_termination_and_human_reply([{"role": "user", "content": "done TERMINATE"}], assistant)
    assert reply == (True, {"role": "user", "content": "go on"})
    assert user._consecutive_auto_reply_counter[assistant] == 0 and _notices(seen) == []


def test_exit_ends_the_chat_names_the_agent_and_resets_the_count():
    user, assistant = pair("ALWAYS", ["unused"])
    user._consecutive_auto_reply_counter[assistant] = 2
    with IOStream.set_default(IOQueue(["exit"])), events.capture(kinds=(events.TerminationChecked, events.Notice)) as seen:
        assert user.check_termination_and_human_reply([{"role": "user", "content": "hi"}], assistant) == (True, None)
    assert [(type(e).__name__, e.agent, e.reason) for e in seen.events] == [("TerminationChecked", "user", "human_exit")]
    assert user._consecutive_auto_reply_counter[assistant] == 0


def test_a_human_answer_resets_the_count():
    user, assistant = pair("ALWAYS", ["unused"])
    user._consecutive_auto_reply_counter[assistant] = 2
    with IOStream.set_default(IOQueue(["hello"])):
        reply = user.check_termination_and_human_reply([{"role": "user", "content": "hi"}], assistant)
    assert reply == (True, {"role": "user", "content": "hello"})
    assert user._consecutive_auto_reply_counter[assistant] == 0


def test_without_a_sender_the_prompt_says_the_sender():
    user, _ = pair("ALWAYS", ["unused"])
    stream = IOQueue(["hello"])
    with IOStream.set_default(stream):
        reply = user.check_termination_and_human_reply([{"role": "user", "content": "hi"}], None)
    assert reply == (True, {"role": "user", "content": "hello"})
    assert stream.prompts == [("Replying as user. Provide feedback to the sender. Press enter to skip and use "
                               "auto-reply, or type 'exit' to end the conversation: ")]


def test_a_human_answer_answers_an_interrupted_function_call_and_tool_calls():
    user, assistant = pair("ALWAYS", ["unused"])
    message = {"role": "user", "content": None, "function_call": {"name": "lookup", "arguments": "{}"}}
    with IOStream.set_default(IOQueue(["stop"])):
        reply = user.check_termination_and_human_reply([message], assistant)
    assert reply == (True, {"role": "user", "content": "stop", "tool_responses": [
        {"role": "function", "name": "lookup", "content": "USER INTERRUPTED"}]})
    # Calls missing their name or id (a malformed model message) are still answered, with empty ones.
    message = {"role": "user", "content": None, "function_call": {"arguments": "{}"},
               "tool_calls": [{"id": "t1", "function": {"name": "f"}}, {"function": {"name": "g"}}]}
    with IOStream.set_default(IOQueue(["stop"])):
        reply = user.check_termination_and_human_reply([message], assistant)
    assert reply == (True, {"role": "user", "content": "stop", "tool_responses": [
        {"role": "function", "name": "", "content": "USER INTERRUPTED"},
        {"role": "tool", "tool_call_id": "t1", "content": "USER INTERRUPTED"},
        {"role": "tool", "tool_call_id": "", "content": "USER INTERRUPTED"}]})
