""""auto" speaker selection (parley.groupchat.auto) called on its own: the prompt the selector
model reads, the requests it gets, what each answer leads to, and the notices and verbose lines.

A ScriptedModelClient stands for the model; no chat runs around the selection."""

from __future__ import annotations

import pytest

from parley import GroupChat, GroupChatManager, IOQueue, IOStream, events
from parley.groupchat import auto
from parley.groupchat.auto import auto_select_speaker, speaker_response_format, transcript_line
from tests.groupchat.conftest import agent, scripted


def select(groupchat, replies, last=None, candidates=None, **manager_kwargs):
    """Run one selection with a manager whose model answers ``replies``: (chosen, model, notices)."""
    config, model = scripted(replies)
    manager = GroupChatManager(groupchat, llm_config=config, **manager_kwargs)
    last = last if last is not None else groupchat.agents[0]
    candidates = candidates if candidates is not None else groupchat.agents
    with events.capture(kinds=(events.Notice,)) as seen:
        chosen = groupchat_run(auto_select_speaker(groupchat, last, manager, candidates))
    return chosen, model, seen.of(events.Notice)


def groupchat_run(awaitable):
    import asyncio

    return asyncio.run(awaitable)


@pytest.fixture
def four():
    return [agent(n) for n in ("alice", "bob", "carol", "dave")]


# ----------------------------------------------------------------- the transcript the model reads

def test_a_message_is_shown_as_name_colon_text():
    assert transcript_line({"role": "user", "name": "alice", "content": "  hello  "}) == {
        "role": "user", "content": "alice: hello"}
    assert transcript_line({"role": "assistant", "content": " no name "}) == {"role": "user", "content": "no name"}
    assert transcript_line({"role": "user", "name": "bob", "content": None}) == {"role": "user", "content": "bob: "}


def test_tool_calls_and_a_function_call_are_shown_as_text():
    message = {"role": "assistant", "name": "bob", "content": "checking", "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Oslo"}'}},
        {"id": "2", "type": "function", "function": {"arguments": "{}"}},  # no name
        {"id": "3", "type": "function", "function": {"name": "now"}},  # no arguments
        {"id": "4", "type": "function"},  # no function at all
    ]}
    assert transcript_line(message)["content"] == (
        "bob: checking\n(calls lookup with {\"city\": \"Oslo\"})\n(calls ? with {})\n(calls now with )\n(calls ? with )")
    legacy = {"role": "assistant", "name": "bob", "content": None, "function_call": {"name": "add", "arguments": "[1]"}}
    assert transcript_line(legacy)["content"] == "bob: (calls add with [1])"
    both = {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "a", "arguments": "1"}}],
            "function_call": {"name": "b", "arguments": "2"}}
    assert transcript_line(both)["content"] == "(calls a with 1)\n(calls b with 2)"
    assert transcript_line({"role": "assistant", "content": "x", "tool_calls": None})["content"] == "x"


def test_a_tool_result_without_a_name_says_so():
    assert transcript_line({"role": "tool", "content": "42"})["content"] == "Tool result: 42"
    assert transcript_line({"role": "function", "content": "42"})["content"] == "Tool result: 42"
    assert transcript_line({"role": "tool", "name": "calc", "content": "42"})["content"] == "calc: 42"
    assert transcript_line({"role": "user", "content": "42"})["content"] == "42"


# ----------------------------------------------------------------- structured output

def test_the_speaker_schema_in_full():
    assert speaker_response_format(["a", "b"]) == {
        "type": "json_schema",
        "json_schema": {
            "name": "speaker",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {"speaker": {"type": "string", "enum": ["a", "b"]}},
                "required": ["speaker"],
                "additionalProperties": False,
            },
        },
    }


def test_structured_output_is_asked_of_local_entries_only_unless_set(four):
    class Client:
        def __init__(self, entries=None):
            if entries is not None:
                self.config_list = entries

    groupchat = GroupChat(four)
    assert auto._wants_structured_output(groupchat, Client([{"api_type": "Local"}, {"api_type": "LOCAL"}]))
    assert not auto._wants_structured_output(groupchat, Client([]))
    assert not auto._wants_structured_output(groupchat, Client(None))  # no config_list at all
    assert not auto._wants_structured_output(groupchat, Client([{"model": "m"}]))  # no api_type
    groupchat.select_speaker_structured_output = False
    assert not auto._wants_structured_output(groupchat, Client([{"api_type": "local"}]))
    groupchat.select_speaker_structured_output = True
    assert auto._wants_structured_output(groupchat, Client(None))


# ----------------------------------------------------------------- the selection

def test_the_request_carries_the_prompt_the_selector_s_name_and_the_purpose(four):
    groupchat = GroupChat(four, messages=[{"role": "user", "name": "alice", "content": "hi"}],
                          select_speaker_structured_output=True)
    with events.capture(kinds=(events.ModelCalled,)) as seen:
        chosen, model, notices = select(groupchat, ['{"speaker": "carol"}'], candidates=four[1:])
    assert chosen is four[2] and notices == []
    request = model.requests[0]
    assert request.messages == [
        {"role": "system", "content": groupchat.select_speaker_msg(four[1:])},
        {"role": "user", "content": "alice: hi"},
        {"role": "system", "content": groupchat.select_speaker_prompt(four[1:])},
    ]
    assert "['bob', 'carol', 'dave']" in request.messages[0]["content"]
    assert request.response_format == speaker_response_format(["bob", "carol", "dave"])
    assert request.agent == "chat_manager" and request.purpose == "speaker_selection"
    assert [(c.agent, c.purpose) for c in seen.of(events.ModelCalled)] == [("chat_manager", "speaker_selection")]


def test_structured_output_by_default_for_a_manager_whose_model_is_local(four):
    model = scripted(['{"speaker": "bob"}'])[1]
    local = {"config_list": [{"model": "m", "api_type": "local", "client": model}]}
    manager = GroupChatManager(GroupChat(four), llm_config=local)
    chosen = groupchat_run(auto_select_speaker(manager.groupchat, four[0], manager, four[1:]))
    assert chosen is four[1]
    assert model.requests[0].response_format == speaker_response_format(["bob", "carol", "dave"])


def test_no_structured_output_for_a_remote_model_and_no_closing_prompt_without_its_template(four):
    groupchat = GroupChat(four, select_speaker_prompt_template=None, role_for_select_speaker_messages="user")
    chosen, model, _ = select(groupchat, ["dave"])
    assert chosen is four[3]
    request = model.requests[0]
    assert request.response_format is None
    assert [m["role"] for m in request.messages] == ["system"]  # no transcript yet, no closing prompt


def test_the_transcript_goes_through_the_transforms(four):
    from parley.agentchat.contrib.capabilities.transform_messages import TransformMessages
    from parley.agentchat.contrib.capabilities.transforms import MessageHistoryLimiter

    history = [{"role": "user", "name": "alice", "content": f"message {i}"} for i in range(4)]
    groupchat = GroupChat(four, messages=history,
                          select_speaker_transform_messages=TransformMessages(transforms=[MessageHistoryLimiter(max_messages=1)],
                                                                            verbose=False))
    _, model, _ = select(groupchat, ["bob"])
    shown = [m["content"] for m in model.requests[0].messages[1:-1]]
    assert shown == ["alice: message 3"]


def test_a_selection_client_is_used_before_the_manager_s(four):
    own_config, own_model = scripted(["carol"])
    groupchat = GroupChat(four, select_speaker_auto_llm_config=own_config)
    chosen, manager_model, _ = select(groupchat, ["bob"])
    assert chosen is four[2]
    assert own_model.calls == 1 and manager_model.calls == 0


def test_each_re_ask_carries_the_answer_and_its_template_in_the_selection_role(four):
    groupchat = GroupChat(four, max_retries_for_selecting_speaker=3, role_for_select_speaker_messages="user",
                          select_speaker_auto_none_template="none of {agentlist}",
                          select_speaker_auto_multiple_template="several of {agentlist}")
    chosen, model, notices = select(groupchat, ["", "bob and carol", "dave"])
    assert chosen is four[3] and notices == []
    assert model.calls == 3
    first, second, third = (r.messages for r in model.requests)
    names = "['alice', 'bob', 'carol', 'dave']"
    assert second[len(first):] == [{"role": "assistant", "content": "(no answer)"},
                                   {"role": "user", "content": f"none of {names}"}]
    assert third[len(second):] == [{"role": "assistant", "content": "bob and carol"},
                                   {"role": "user", "content": f"several of {names}"}]


def test_verbose_selection_says_each_attempt(four, capsys):
    groupchat = GroupChat(four, max_retries_for_selecting_speaker=2, select_speaker_auto_verbose=True)
    select(groupchat, ["nobody", "bob or carol", "carol"])
    assert [line for line in capsys.readouterr().out.splitlines() if line.startswith(">>>>>>>>")] == [
        ">>>>>>>> Select speaker attempt 1 of 3 failed as it did not include any agent names.",
        ">>>>>>>> Select speaker attempt 2 of 3 failed as it included multiple agent names.",
        ">>>>>>>> Select speaker attempt 3 of 3 successfully selected: carol",
    ]
    groupchat.select_speaker_auto_verbose = False
    select(groupchat, ["carol"])
    assert ">>>>>>>>" not in capsys.readouterr().out


def test_verbose_lines_are_flushed_at_once(four):
    # A console shows each attempt as it happens, not when the chat's output is next flushed.
    class Recorder(IOQueue):
        def __init__(self):
            super().__init__()
            self.flushes = []

        def print(self, *objects, sep=" ", end="\n", flush=False):
            self.flushes.append(flush)
            super().print(*objects, sep=sep, end=end, flush=flush)

    recorder = Recorder()
    with IOStream.set_default(recorder):
        select(GroupChat(four, select_speaker_auto_verbose=True), ["carol"])
    assert recorder.printed == [">>>>>>>> Select speaker attempt 1 of 3 successfully selected: carol\n"]
    assert recorder.flushes == [True]


def test_the_last_attempt_is_not_followed_by_a_re_ask(four):
    groupchat = GroupChat(four, max_retries_for_selecting_speaker=1)
    _, model, _ = select(groupchat, ["nobody", "still nobody"])
    assert model.calls == 2
    assert len(model.requests[1].messages) == len(model.requests[0].messages) + 2


def test_mentions_add_up_over_the_attempts_and_the_most_mentioned_is_taken(four):
    # carol 2 and bob 1, then bob 1 and dave 1 twice: bob (3) over carol and dave (2). The last
    # answer alone is a tie, which would give the next in turn (carol, after bob).
    groupchat = GroupChat(four, max_retries_for_selecting_speaker=2)
    chosen, _, notices = select(groupchat, ["carol, carol or bob", "bob or dave", "bob or dave"],
                                last=four[1], candidates=four[1:])
    assert chosen is four[1]
    assert [(n.text, n.level) for n in notices] == [
        ("speaker selection: no single name after 3 attempt(s); 'bob' was mentioned most", "warning")]


def test_a_tie_in_mentions_falls_back_to_the_next_in_turn(four):
    groupchat = GroupChat(four, max_retries_for_selecting_speaker=0)
    chosen, _, notices = select(groupchat, ["dave or carol"], last=four[0])
    assert chosen is four[1]
    assert [(n.text, n.level) for n in notices] == [
        ("speaker selection: the model named no single candidate in 1 attempt(s); 'bob' speaks next in turn", "warning")]
    # The next in turn among the candidates: after alice, bob is none of them.
    chosen, _, notices = select(groupchat, ["nobody"], last=four[0], candidates=[four[2], four[3]])
    assert chosen is four[2]
    assert notices[0].text.endswith("'carol' speaks next in turn")


def test_the_first_most_mentioned_wins_over_a_later_lesser_one(four):
    groupchat = GroupChat(four, max_retries_for_selecting_speaker=0)
    chosen, _, _ = select(groupchat, ["carol carol carol dave"])
    assert chosen is four[2]
    chosen, _, _ = select(groupchat, ["dave carol carol carol"])
    assert chosen is four[2]


def test_without_a_model_the_next_in_turn_speaks_with_a_warning(four):
    groupchat = GroupChat(four)
    manager = GroupChatManager(groupchat, llm_config=False)
    with events.capture(kinds=(events.Notice,)) as seen:
        chosen = groupchat_run(auto_select_speaker(groupchat, four[1], manager, four))
    assert chosen is four[2]
    assert [(n.text, n.level) for n in seen.of(events.Notice)] == [(
        ("speaker selection 'auto' needs a model but 'chat_manager' has none (llm_config=False): "
        "'carol' speaks next in turn"), "warning")]
    # The next in turn among the candidates: after alice, bob is none of them.
    assert groupchat_run(auto_select_speaker(groupchat, four[0], manager, [four[2], four[3]])) is four[2]
