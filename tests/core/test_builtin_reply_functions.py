"""The classic built-in reply functions called on their own: when each applies, what it reads when no
messages are given, and what it answers."""

from __future__ import annotations

import pytest

from parley import AssistantAgent, ConversableAgent, ScriptedModelClient, UserProxyAgent, events
from tests.conftest import scripted_config


def _runner(tmp_path, **code):
    def lookup(city: str) -> str:
        return f"sunny in {city}"

    runner = UserProxyAgent("runner", human_input_mode="NEVER", function_map={"lookup": lookup},
                            code_execution_config={"use_docker": False, "work_dir": str(tmp_path), **code})
    writer = ConversableAgent("writer", llm_config=False, human_input_mode="NEVER")
    return runner, writer


FUNCTION_CALL = {"role": "assistant", "content": None, "function_call": {"name": "lookup", "arguments": '{"city": "Oslo"}'}}
TOOL_CALLS = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Rome"}'}}]}


def test_the_function_call_reply_runs_the_last_message_s_call(tmp_path):
    runner, writer = _runner(tmp_path)
    assert runner.generate_function_call_reply([], writer) == (False, None)
    assert runner.generate_function_call_reply([FUNCTION_CALL, {"role": "user", "content": "hi"}], writer) == (False, None)
    final, reply = runner.generate_function_call_reply([FUNCTION_CALL], writer)
    assert final is True and reply["name"] == "lookup" and reply["content"] == "sunny in Oslo"
    # No messages given: the sender's conversation; no sender either: nothing to run.
    runner._oai_messages[writer] = [FUNCTION_CALL]
    final, reply = runner.generate_function_call_reply(None, writer)
    assert final is True and reply["content"] == "sunny in Oslo"
    assert runner.generate_function_call_reply(None, None) == (False, None)
    assert None not in runner.chat_messages


def test_the_tool_calls_reply_answers_each_call(tmp_path):
    runner, writer = _runner(tmp_path)
    assert runner.generate_tool_calls_reply([], writer) == (False, None)
    assert runner.generate_tool_calls_reply([{"role": "user", "content": "hi"}], writer) == (False, None)
    final, reply = runner.generate_tool_calls_reply([TOOL_CALLS], writer)
    assert final is True and reply["role"] == "tool" and reply["content"] == "sunny in Rome"
    assert [(r["tool_call_id"], r["content"]) for r in reply["tool_responses"]] == [("c1", "sunny in Rome")]
    runner._oai_messages[writer] = [TOOL_CALLS]
    assert runner.generate_tool_calls_reply(None, writer)[1]["content"] == "sunny in Rome"
    assert runner.generate_tool_calls_reply(None, None) == (False, None)
    assert None not in runner.chat_messages


CODE = {"role": "user", "content": "```python\nprint(6 * 7)\n```"}
TEXT = {"role": "user", "content": "no code here"}
MINE = {"role": "assistant", "content": "```python\nprint('mine')\n```"}


def test_last_n_messages_chooses_how_far_back_code_is_looked_for(tmp_path):
    runner, writer = _runner(tmp_path, last_n_messages=2)
    final, reply = runner.generate_code_execution_reply([CODE, TEXT], writer)
    assert final is True and reply == "exitcode: 0 (execution succeeded)\nCode output: \n42\n"  # legacy: on a new line
    assert runner.generate_code_execution_reply([CODE, TEXT, TEXT], writer) == (False, None)
    runner, writer = _runner(tmp_path, last_n_messages=0)
    assert runner.generate_code_execution_reply([CODE], writer) == (False, None)
    # "auto" (the default): everything received since this agent last spoke, and no further.
    runner, writer = _runner(tmp_path)
    assert runner.generate_code_execution_reply([CODE, TEXT, TEXT], writer)[0] is True
    assert runner.generate_code_execution_reply([CODE, MINE, TEXT], writer) == (False, None)
    assert runner.generate_code_execution_reply([MINE], writer) == (False, None)
    # The newest message with code wins; a message without content is skipped.
    final, reply = runner.generate_code_execution_reply(
        [CODE, {"role": "user", "content": "```python\nprint('newer')\n```"}, {"role": "user", "content": None}], writer)
    assert "newer" in reply and "42" not in reply


@pytest.mark.parametrize("bad", [-1, True, "all", 1.5])
def test_a_bad_last_n_messages_is_refused_by_name(tmp_path, bad):
    runner, writer = _runner(tmp_path, last_n_messages=bad)
    with pytest.raises(ValueError, match=r"code_execution_config\['last_n_messages'\] must be .* got " + repr(bad)[:2]):
        runner.generate_code_execution_reply([CODE], writer)


def test_the_code_reply_reads_the_sender_s_messages_and_a_given_config(tmp_path):
    runner, writer = _runner(tmp_path)
    runner._oai_messages[writer] = [CODE]
    with events.capture(kinds=(events.CodeExecutionStarted,)) as seen:
        final, reply = runner.generate_code_execution_reply(None, writer)
    assert final is True and "42" in reply
    assert [(e.agent, e.blocks, e.languages) for e in seen.events] == [("runner", 1, ["python"])]
    assert runner.generate_code_execution_reply(None, None) == (False, None)
    assert None not in runner.chat_messages
    # A config given to the call is used instead of the agent's: here, off.
    assert runner.generate_code_execution_reply([CODE], writer, config=False) == (False, None)
    off = UserProxyAgent("off", human_input_mode="NEVER", code_execution_config=False)
    other = tmp_path / "other"
    final, reply = off.generate_code_execution_reply(
        [{"role": "user", "content": "```python\nopen('made.txt', 'w').write('x')\n```"}], writer,
        config={"use_docker": False, "work_dir": str(other), "last_n_messages": 1})
    assert final is True and (other / "made.txt").read_text() == "x"


def test_the_model_reply_uses_a_client_given_as_config():
    model = ScriptedModelClient(["from the agent's model"])
    model.keep_requests = True
    assistant = AssistantAgent("assistant", llm_config={"config_list": [{"model": "scripted", "client": model}]})
    writer = ConversableAgent("writer", llm_config=False, human_input_mode="NEVER")
    other = AssistantAgent("other", llm_config=scripted_config(["from the given client"]))
    assert assistant.generate_oai_reply([{"role": "user", "content": "hi"}], writer, config=other.client) == (
        True, "from the given client")
    assert model.requests == []
    # No messages given: the sender's conversation is the prompt; no sender, only the system message.
    assistant._oai_messages[writer] = [{"role": "user", "content": "from the conversation"}]
    assert assistant.generate_oai_reply(None, writer) == (True, "from the agent's model")
    assert model.requests[-1].messages[-1]["content"] == "from the conversation"
    assert assistant.generate_oai_reply(None, None) == (True, "from the agent's model")
    assert [m["role"] for m in model.requests[-1].messages] == ["system"]
    assert None not in assistant.chat_messages
    assert ConversableAgent("plain", llm_config=False).generate_oai_reply([{"role": "user", "content": "hi"}]) == (
        False, None)


def test_a_model_reply_with_a_legacy_function_call_is_the_message_dict():
    call = {"content": None, "function_call": {"name": "lookup", "arguments": "{}"}}
    assistant = AssistantAgent("assistant", llm_config=scripted_config([call]))
    final, reply = assistant.generate_oai_reply([{"role": "user", "content": "hi"}])
    # Classic shape: the whole message, its empty content kept (a None field other than content is dropped).
    assert final is True and reply == {"role": "assistant", "content": None, "function_call": call["function_call"]}


class _CountingCache:
    """The cache protocol (get/set), counting look-ups."""

    def __init__(self) -> None:
        self.gets, self.data = 0, {}

    def get(self, key, default=None):
        self.gets += 1
        return self.data.get(key, default)

    def set(self, key, value) -> None:
        self.data[key] = value


def test_the_model_reply_uses_the_chat_s_cache_else_the_agent_s():
    assistant = AssistantAgent("assistant", llm_config=scripted_config(["answer"]))
    mine = _CountingCache()
    assistant.client_cache = mine  # classic: used outside a chat
    assert assistant.generate_oai_reply([{"role": "user", "content": "hi"}]) == (True, "answer")
    assert mine.gets == 1 and len(mine.data) == 1
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False)
    chats = _CountingCache()
    user.initiate_chat(assistant, message="hi", max_turns=1, cache=chats, silent=True)
    assert chats.gets == 1 and mine.gets == 1  # the chat's cache, not the agent's


def test_tool_and_function_calls_are_reported_as_the_executing_agent_s(tmp_path):
    runner, writer = _runner(tmp_path)
    with events.capture(kinds=(events.ToolCalled,)) as seen:
        runner.generate_function_call_reply([FUNCTION_CALL], writer)
        runner.generate_tool_calls_reply([TOOL_CALLS], writer)
    assert [(e.agent, e.tool, e.result) for e in seen.events] == [
        ("runner", "lookup", "sunny in Oslo"), ("runner", "lookup", "sunny in Rome")]


def test_with_an_executor_in_the_given_config_the_output_follows_code_output_directly(tmp_path):
    off = UserProxyAgent("off", human_input_mode="NEVER", code_execution_config=False)
    final, reply = off.generate_code_execution_reply(
        [CODE], None, config={"executor": "local", "local": {"work_dir": str(tmp_path)}, "last_n_messages": 1})
    assert (final, reply) == (True, "exitcode: 0 (execution succeeded)\nCode output: 42\n")


def test_the_reply_protocol_constrains_the_model_request_only_when_on(tmp_path):
    import json

    def chat(**option):
        client = ScriptedModelClient([json.dumps({"language": "python", "code": "print(6 * 7)"}),
                                      json.dumps({"answer": "It is 42."})])
        client.keep_requests = True
        assistant = AssistantAgent("assistant", llm_config={
            "config_list": [{"model": "scripted", "client": client}], "cache_seed": None, **option})
        user = UserProxyAgent("user", human_input_mode="NEVER", max_consecutive_auto_reply=1,
                              code_execution_config={"work_dir": str(tmp_path), "use_docker": False})
        result = user.initiate_chat(assistant, message="Multiply 6 by 7.", max_turns=2, silent=True)
        return client.requests, result

    requests, result = chat(reply_protocol=True)
    assert [(r.agent, r.response_format["json_schema"]["name"]) for r in requests] == [
        ("assistant", "code_reply"), ("assistant", "answer_reply")]
    assert "exitcode: 0" in requests[1].messages[-1]["content"]
    assert result.chat_history[1]["content"] == "```python\nprint(6 * 7)\n```"
    assert result.chat_history[-1]["content"] == "It is 42.\n\nTERMINATE"
    requests, _ = chat()  # off unless asked for (a remote model)
    assert [r.response_format for r in requests] == [None, None]


def test_each_runner_records_its_result_at_the_chat_position(tmp_path):
    # While a run store records (SideEffectRecorded wanted), each code run and tool call is stored at
    # the length of the history it answers: a resumed chat reuses it at that point (parley.side_effects).
    runner, writer = _runner(tmp_path)
    before = [{"role": "user", "content": "first"}, {"role": "assistant", "content": "second"}]
    with events.capture(kinds=(events.SideEffectRecorded,)) as seen:
        runner.generate_function_call_reply([*before, FUNCTION_CALL], writer)
        runner.generate_tool_calls_reply([TOOL_CALLS], writer)
        runner.generate_code_execution_reply([*before, TEXT, CODE], writer)
    assert [(e.agent, e.kind, e.position) for e in seen.events] == [
        ("runner", "tool", 3), ("runner", "tool", 1), ("runner", "code", 4)]
    assert seen.events[0].result == {"content": "sunny in Oslo", "ok": True}
    assert seen.events[2].result["output"].strip() == "42"


def test_a_stored_result_is_reused_at_the_same_position_only(tmp_path):
    from parley import side_effects
    from parley.code import extract_code_blocks

    runner, writer = _runner(tmp_path)
    digest = side_effects.code_digest(extract_code_blocks(CODE["content"]))
    rows = [{"agent": "runner", "kind": "code", "position": 2, "digest": digest,
             "result": {"exit_code": 0, "output": "stored\n"}},
            {"agent": "runner", "kind": "tool", "position": 1,
             "digest": side_effects.tool_digest(0, "lookup", '{"city": "Rome"}'),
             "result": {"content": "stored weather", "ok": True}}]
    token = events.current_chat_id.set(7)
    try:
        with side_effects.replaying(7, rows):
            assert runner.generate_code_execution_reply([TEXT, CODE], writer)[1].endswith("stored\n")
            assert runner.generate_code_execution_reply([CODE], writer)[1].endswith("42\n")  # another position: it runs
            assert runner.generate_tool_calls_reply([TOOL_CALLS], writer)[1]["content"] == "stored weather"
    finally:
        events.current_chat_id.reset(token)


def _recording(replies):
    model = ScriptedModelClient(replies)
    model.keep_requests = True
    return model


def test_the_reply_protocol_option_turns_it_on_for_a_plain_agent_too():
    import json

    model = _recording([json.dumps({"language": "sh", "code": "ls"})])
    plain = ConversableAgent("plain", system_message="Reply with one code block.", human_input_mode="NEVER",
                             llm_config={"config_list": [{"model": "m", "client": model}], "reply_protocol": True})
    assert plain.generate_oai_reply([{"role": "user", "content": "list files"}]) == (True, "```sh\nls\n```")
    assert model.requests[0].response_format["json_schema"]["name"] == "code_reply"
    # Without the option a plain agent is never constrained, whatever its system message says.
    model = _recording(["ls"])
    plain = ConversableAgent("plain", system_message="Reply with one code block.", human_input_mode="NEVER",
                             llm_config={"config_list": [{"model": "m", "api_type": "local", "client": model}]})
    assert plain.generate_oai_reply([{"role": "user", "content": "list files"}]) == (True, "ls")
    assert model.requests[0].response_format is None


def test_a_client_given_as_config_is_never_constrained():
    assistant = AssistantAgent("assistant", llm_config={
        "config_list": [{"model": "m", "client": _recording(["unused"])}], "reply_protocol": True})
    given = _recording(["plain text"])
    other = AssistantAgent("other", llm_config={"config_list": [{"model": "m", "client": given}]})
    assert assistant.generate_oai_reply([{"role": "user", "content": "hi"}], config=other.client) == (True, "plain text")
    assert given.requests[0].response_format is None and given.requests[0].params == {}


def test_a_constrained_reply_uses_the_cache_too():
    import json

    model = _recording([json.dumps({"answer": "It is 42."})])
    assistant = AssistantAgent("assistant", system_message="End with TERMINATE.", llm_config={
        "config_list": [{"model": "m", "client": model}], "reply_protocol": True})
    cache = _CountingCache()
    assistant.client_cache = cache
    messages = [{"role": "user", "content": "What is 6 * 7?"}]
    assert assistant.generate_oai_reply(messages) == (True, "It is 42.\n\nTERMINATE")
    assert cache.gets == 1 and len(cache.data) == 1
    assert assistant.generate_oai_reply(messages) == (True, "It is 42.\n\nTERMINATE")  # from the cache
    assert model.calls == 1
