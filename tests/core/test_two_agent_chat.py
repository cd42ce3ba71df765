"""Two-agent chats: the classic flow, termination, limits, max_turns, summaries, usage."""

from __future__ import annotations

import parley
from parley import AssistantAgent, ConversableAgent, UserProxyAgent, events
from tests.conftest import scripted_config


def ends_with_terminate(message):
    return message.get("content", "").rstrip().endswith("TERMINATE")


def make_pair(replies, **user_kwargs):
    assistant = AssistantAgent("assistant", llm_config=scripted_config(replies))
    user = UserProxyAgent(
        "user_proxy",
        human_input_mode="NEVER",
        max_consecutive_auto_reply=user_kwargs.pop("max_consecutive_auto_reply", 10),
        is_termination_msg=ends_with_terminate,
        code_execution_config=False,
        **user_kwargs,
    )
    return user, assistant


def test_chat_ends_when_assistant_says_terminate():
    user, assistant = make_pair(["Let me think.", "The answer is 4. TERMINATE"])
    result = user.initiate_chat(assistant, message="What is 2+2?")
    contents = [m["content"] for m in result.chat_history]
    assert contents == ["What is 2+2?", "Let me think.", "", "The answer is 4. TERMINATE"]
    assert [m["role"] for m in result.chat_history] == ["assistant", "user", "assistant", "user"]
    assert result.summary == "The answer is 4."
    assert isinstance(result.chat_id, int)


def test_histories_are_mirrored_with_roles_and_names():
    user, assistant = make_pair(["hello TERMINATE"])
    user.initiate_chat(assistant, message="hi")
    sent = user.chat_messages[assistant][0]
    received = assistant.chat_messages[user][0]
    assert sent == {"content": "hi", "role": "assistant", "name": "user_proxy"}
    assert received == {"content": "hi", "role": "user", "name": "user_proxy"}
    assert assistant.chat_messages[user][1]["role"] == "assistant"


def test_max_consecutive_auto_reply_limits_the_chat():
    user, assistant = make_pair(["keep going"], max_consecutive_auto_reply=3)
    result = user.initiate_chat(assistant, message="start")
    # 1 initial + 4 assistant replies + 3 auto replies from the user proxy
    assert len(result.chat_history) == 8
    assert sum(1 for m in result.chat_history if m["role"] == "user") == 4


def test_max_turns_counts_round_trips():
    user, assistant = make_pair(["reply"])
    result = user.initiate_chat(assistant, message="start", max_turns=3)
    assert len(result.chat_history) == 6


def test_max_turns_zero_sends_nothing():
    user, assistant = make_pair(["reply"])
    result = user.initiate_chat(assistant, message="start", max_turns=0)
    assert result.chat_history == []


def test_clear_history_false_continues():
    user, assistant = make_pair(["one TERMINATE"])
    user.initiate_chat(assistant, message="first")
    result = user.initiate_chat(assistant, message="second", clear_history=False)
    assert [m["content"] for m in result.chat_history] == ["first", "one TERMINATE", "second", "one TERMINATE"]


def test_message_as_dict_and_callable():
    user, assistant = make_pair(["ok TERMINATE"])
    result = user.initiate_chat(assistant, message={"content": "dict message", "context": {"x": 1}})
    assert result.chat_history[0]["content"] == "dict message"

    def make_message(sender, recipient, context):
        return f"from {sender.name} to {recipient.name}"

    result = user.initiate_chat(assistant, message=make_message)
    assert result.chat_history[0]["content"] == "from user_proxy to assistant"


def test_model_sees_system_message_and_history():
    seen = []

    def reply(request):
        seen.append([dict(m) for m in request.messages])
        return "done TERMINATE"

    assistant = AssistantAgent("assistant", system_message="You are terse.", llm_config=scripted_config(reply))
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    user.initiate_chat(assistant, message="hello")
    assert seen[0][0] == {"content": "You are terse.", "role": "system"}
    assert seen[0][1]["content"] == "hello" and seen[0][1]["role"] == "user"


def test_prompt_stays_correct_across_turns_and_clears():
    seen = []

    def reply(request):
        seen.append([m.get("content") for m in request.messages])
        return f"reply {len(seen)}"

    assistant = AssistantAgent("assistant", system_message="sys", llm_config=scripted_config(reply))
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, default_auto_reply="more")
    user.initiate_chat(assistant, message="go", max_turns=3)
    assert seen[-1] == ["sys", "go", "reply 1", "more", "reply 2", "more"]
    user.initiate_chat(assistant, message="again", max_turns=1)
    assert seen[-1] == ["sys", "again"]
    assistant.update_system_message("new sys")
    user.initiate_chat(assistant, message="x", max_turns=1)
    assert seen[-1] == ["new sys", "x"]


def test_default_auto_reply_when_no_model():
    bot = ConversableAgent("bot", llm_config=False, default_auto_reply="I have no model.", human_input_mode="NEVER",
                           max_consecutive_auto_reply=1)
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, max_consecutive_auto_reply=0)
    result = user.initiate_chat(bot, message="hi")
    assert result.chat_history[1]["content"] == "I have no model."


def test_ten_thousand_turns_without_recursion_limit():
    user, assistant = make_pair(["again"], max_consecutive_auto_reply=10_000)
    assistant_counter = AssistantAgent("a2", llm_config=scripted_config(["again"]), max_consecutive_auto_reply=10_000)
    user.update_max_consecutive_auto_reply(10_000)
    result = user.initiate_chat(assistant_counter, message="start", max_turns=5_000, silent=True)
    assert len(result.chat_history) == 10_000


def test_summary_reflection_with_llm_uses_model_and_prompt():
    calls = []

    def reply(request):
        calls.append(request.messages[-1])
        if request.messages[-1]["content"].startswith("Summarize"):
            return "The summary."
        return "answer TERMINATE"

    user, assistant = make_pair(reply)
    result = user.initiate_chat(assistant, message="q", summary_method="reflection_with_llm")
    assert result.summary == "The summary."
    assert calls[-1] == {"role": "system", "content": ConversableAgent.DEFAULT_SUMMARY_PROMPT}


def test_summary_callable_and_custom_prompt():
    user, assistant = make_pair(["x TERMINATE"])
    result = user.initiate_chat(assistant, message="q", summary_method=lambda s, r, args: f"{s.name}->{r.name} {args['k']}",
                                summary_args={"k": 1})
    assert result.summary == "user_proxy->assistant 1"


def test_usage_and_cost_are_gathered():
    assistant = AssistantAgent("assistant", llm_config=scripted_config(["TERMINATE"], usage=(10, 4), cost_per_call=0.5))
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    result = user.initiate_chat(assistant, message="q")
    including = result.cost["usage_including_cached_inference"]
    assert including["total_cost"] == 0.5
    assert including["scripted"] == {"cost": 0.5, "prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
    assert result.cost["usage_excluding_cached_inference"]["total_cost"] == 0.5
    summary = parley.gather_usage_summary([user, assistant])
    assert summary["usage_including_cached_inference"]["total_cost"] == 0.5


def test_print_usage_summary_goes_to_iostream():
    assistant = AssistantAgent("assistant", llm_config=scripted_config(["TERMINATE"], usage=(3, 2), cost_per_call=0.25))
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    user.initiate_chat(assistant, message="q")
    stream = parley.IOQueue()
    with parley.IOStream.set_default(stream):
        assistant.print_usage_summary()
    assert "Agent 'assistant'" in stream.output and "prompt_tokens: 3" in stream.output and "0.25" in stream.output


def test_events_cover_chat_messages_and_replies():
    user, assistant = make_pair(["done TERMINATE"])
    with events.capture() as captured:
        user.initiate_chat(assistant, message="q")
    kinds = [type(e).__name__ for e in captured.events]
    assert kinds[0] == "ChatStarted" and kinds[-1] == "ChatFinished"
    sent = captured.of(events.MessageSent)
    assert [(e.sender, e.recipient) for e in sent] == [("user_proxy", "assistant"), ("assistant", "user_proxy")]
    assert all(e.chat_id == captured.events[0].chat_id for e in sent)
    model_calls = captured.of(events.ModelCalled)
    assert len(model_calls) == 1 and model_calls[0].agent == "assistant"
    assert any(e.reply_func == "_reply_with_model" for e in captured.of(events.ReplyChosen))


def test_silent_silences_the_console_only():
    from parley.io.console import console_sink

    user, assistant = make_pair(["done TERMINATE"])
    stream = parley.IOQueue()
    console_sink.enabled = True
    with parley.IOStream.set_default(stream), events.capture() as captured:
        user.initiate_chat(assistant, message="quiet please", silent=True)
        assert stream.output == ""
        user.initiate_chat(assistant, message="loud please")
    assert "user_proxy (to assistant):" in stream.output and "loud please" in stream.output
    assert len(captured.of(events.MessageSent)) == 4


def test_content_none_and_list_of_parts():
    user, assistant = make_pair([{"content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}])
    parts = [{"type": "text", "text": "look at "}, {"type": "image_url", "image_url": {"url": "data:x"}}]
    user.initiate_chat(assistant, message={"content": parts}, max_turns=1)
    assert assistant.chat_messages[user][0]["content"] == parts
    assert parley.messages.content_str(parts) == "look at <image>"


async def test_async_face_runs_the_same_engine():
    user, assistant = make_pair(["async TERMINATE"])
    result = await user.a_initiate_chat(assistant, message="q")
    assert result.summary == "async"
    reply = await assistant.a_generate_reply(messages=[{"role": "user", "content": "x"}])
    assert reply == "async TERMINATE"


async def test_sync_face_works_inside_a_running_loop():
    user, assistant = make_pair(["inside TERMINATE"])
    result = user.initiate_chat(assistant, message="q")  # e.g. in Jupyter
    assert result.summary == "inside"


def test_events_nobody_wants_are_not_built_and_sinks_get_only_their_types():
    stream = events.EventStream()
    got = []
    stream.add_sink(got.append, event_types=[events.Notice])
    assert stream.wanted == {events.Notice}
    stream.emit(events.Notice(text="hi"))
    stream.emit(events.ReplyChosen(agent="a", sender=None, reply_func="f", final=True))
    assert [type(e) for e in got] == [events.Notice]
    catch_all = stream.add_sink(lambda e: None)
    assert events.ReplyChosen in stream.wanted and events.MessageSent in stream.wanted
    stream.remove_sink(catch_all)
    assert stream.wanted == {events.Notice}
    # The default stream's console sink does not want reply decisions: the engine skips building them.
    from parley.io.console import console_sink

    assert events.ReplyChosen not in console_sink.event_types and events.MessageSent in console_sink.event_types
