"""Classic AutoGen 0.2 behaviours, exercised as a classic script would (``autogen`` -> ``parley``)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Annotated

import pytest

import parley
from parley import ConversableAgent, GroupChat, GroupChatManager
from parley.exception_utils import (
    AgentNameConflict,
    InvalidCarryOverType,
    SenderRequired,
    UndefinedNextAgent,
)


def agent(name: str, **kwargs) -> ConversableAgent:
    kwargs.setdefault("default_auto_reply", f"This is {name} speaking.")
    return ConversableAgent(name, llm_config=False, human_input_mode="NEVER", **kwargs)


# ---------------------------------------------------------------- exceptions where classic raises them

def test_generate_reply_without_messages_or_sender_raises_assertion_and_value_error():
    a = agent("a")
    with pytest.raises(AssertionError, match="Either messages or sender must be provided"):
        a.generate_reply(messages=None, sender=None)
    with pytest.raises(ValueError):
        asyncio.run(a.a_generate_reply(messages=None, sender=None))


def test_name_trigger_without_sender_raises_sender_required():
    a = agent("a")
    a.register_reply("bob", lambda recipient, messages, sender, config: (True, "for bob"))
    with pytest.raises(SenderRequired):
        a.generate_reply(messages=[{"role": "user", "content": "hi"}], sender=None)


def test_carryover_of_wrong_type_raises_invalid_carryover_type():
    a = agent("a")
    assert a.generate_init_message(message="hello", carryover=["one", "two"]) == "hello\nContext: \none\ntwo"
    with pytest.raises(InvalidCarryOverType):
        a.generate_init_message(message="hello", carryover=3)
    parts = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}]
    message = a.generate_init_message(message={"content": parts}, carryover="before")
    assert message["content"] == [{"type": "text", "text": "\nContext: \nbefore"}, *parts]


def test_groupchat_duplicate_names_conflict_only_on_lookup(caplog):
    alice, bob = agent("alice"), agent("bob")
    twin = agent("bob")
    with caplog.at_level(logging.WARNING):
        groupchat = GroupChat([alice, bob, twin], messages=[])
    assert "both named 'bob'" in caplog.text
    assert groupchat.agent_by_name("bob") is bob
    with pytest.raises(AgentNameConflict):
        groupchat.agent_by_name("bob", raise_on_name_conflict=True)


def test_next_agent_ignores_outsiders_and_raises_when_none_is_a_participant():
    a1, a2, a3, outsider, o2 = agent("a1"), agent("a2"), agent("a3"), agent("x"), agent("y")
    groupchat = GroupChat([a1, a2, a3], messages=[], speaker_selection_method="round_robin")
    assert groupchat.next_agent(a3) is a1
    assert groupchat.next_agent(outsider, [a1, a3]) is a1
    with pytest.raises(UndefinedNextAgent):
        groupchat.next_agent(outsider, [outsider, o2])


def test_speaker_selection_method_is_checked_when_selecting():
    alice, bob = agent("alice"), agent("bob")
    groupchat = GroupChat([alice, bob], messages=[], speaker_selection_method="wrong", max_round=3)
    manager = GroupChatManager(groupchat, llm_config=False)
    with pytest.raises(ValueError, match="speaker_selection_method must be one of"):
        alice.initiate_chat(manager, message="hi")


def test_dead_end_in_transition_graph_is_accepted_and_ends_the_chat(caplog):
    alice, bob = agent("alice"), agent("bob")
    with caplog.at_level(logging.WARNING):
        groupchat = GroupChat([alice, bob], messages=[], max_round=5, speaker_selection_method="round_robin",
                              allowed_or_disallowed_speaker_transitions={alice: [bob], bob: []},
                              speaker_transitions_type="allowed")
    assert "'bob' can be chosen to speak" in caplog.text
    alice.initiate_chat(GroupChatManager(groupchat, llm_config=False), message="hi")
    assert [m["name"] for m in groupchat.messages] == ["alice", "bob"]


def test_allow_repeat_speaker_of_wrong_type_is_a_value_error():
    with pytest.raises(ValueError, match="should be a bool or a list of Agents"):
        GroupChat([agent("a"), agent("b")], messages=[], allow_repeat_speaker={"a": 1})


# ---------------------------------------------------------------- messages, hooks, replies

def test_content_as_a_callable_of_context():
    sender, receiver = agent("sender"), agent("receiver", max_consecutive_auto_reply=0)
    sender.send({"content": lambda context: f"hello {context['name']}", "context": {"name": "there"}}, receiver)
    assert receiver.last_message(sender)["content"] == "hello there"


def test_async_hooks_run_in_sync_and_async_chats():
    a = agent("a")
    seen = []

    async def expand(text):
        return text + " [Expanded]"

    def record(messages):
        seen.append(messages[-1]["content"])
        return messages

    a.register_hook("a_process_last_received_message", expand)
    a.register_hook("process_all_messages_before_reply", record)
    a.register_reply([parley.Agent, None], lambda recipient, messages, sender, config: (True, messages[-1]["content"]))
    assert a.generate_reply(messages=[{"role": "user", "content": "How are you?"}]) == "How are you? [Expanded]"
    # Classic's generate_reply order: the last message is edited before the all-messages hooks run.
    assert seen == ["How are you? [Expanded]"]


def test_reply_function_may_return_a_list():
    a, b = agent("a"), agent("b", max_consecutive_auto_reply=1)
    b.register_reply([parley.Agent, None], lambda recipient, messages, sender, config: [True, "from a list"])
    a.initiate_chat(b, message="hi", max_turns=1)
    assert a.last_message(b)["content"] == "from a list"


def test_classic_agent_protocol_recipient_receives():
    class Recorder(parley.Agent):
        def __init__(self, name):
            self._name = name
            self.received = []

        @property
        def name(self):
            return self._name

        def receive(self, message, sender, request_reply=None, silent=False):
            self.received.append(message)

    executor = agent("executor")
    executor.register_function({"echo": lambda text: text})
    recorder = Recorder("recorder")
    executor.receive({"content": "", "tool_calls": [
        {"id": "1", "type": "function", "function": {"name": "echo", "arguments": json.dumps({"text": "hello"})}},
        {"id": "2", "type": "function", "function": {"name": "missing", "arguments": "{}"}},
    ]}, recorder, request_reply=True)
    (reply,) = recorder.received
    assert [r["content"] for r in reply["tool_responses"]] == ["hello", "Error: Function missing not found."]


def test_tool_error_text_is_classic():
    def boom() -> str:
        raise RuntimeError("Error in tool function")

    a = agent("a", function_map={"boom": boom})
    ok, reply = a.generate_function_call_reply([{"role": "assistant", "content": None, "function_call": {"name": "boom", "arguments": "{}"}}])
    assert ok and reply == {"name": "boom", "role": "function", "content": "Error: Error in tool function"}
    ok, reply = a.generate_function_call_reply([{"role": "assistant", "content": None, "function_call": {"name": "nope", "arguments": "{}"}}])
    assert ok and reply["content"] == "Error: Function nope not found."


# ---------------------------------------------------------------- tools

LLM = {"config_list": [{"model": "gpt-4", "api_key": "sk-not-used"}]}


def test_stacked_register_for_llm_keeps_the_description():
    a1, a2 = ConversableAgent("a1", llm_config=LLM), ConversableAgent("a2", llm_config=LLM)

    @a2.register_for_llm(name="python")
    @a1.register_for_llm(description="run cell in ipython and return the execution result.")
    def exec_python(cell: Annotated[str, "Valid Python cell to execute."]) -> str:
        return cell

    assert a2.llm_config["tools"][0]["function"]["description"] == "run cell in ipython and return the execution result."
    assert a2.llm_config["tools"][0]["function"]["name"] == "python"


def test_register_for_llm_errors_are_classic():
    a = ConversableAgent("a", llm_config=LLM)

    def undocumented(x: int) -> int:
        return x

    with pytest.raises(ValueError, match="Function description is required, none found"):
        a.register_for_llm()(undocumented)
    no_model = ConversableAgent("b", llm_config=False)
    with pytest.raises(AssertionError, match="To update a tool signature, agent must have an llm_config"):
        no_model.register_for_llm(description="d")(undocumented)


def test_register_for_llm_api_style_function():
    a = ConversableAgent("a", llm_config=LLM)

    @a.register_for_llm(description="echo it", api_style="function")
    def echo(text: Annotated[str, "what to echo"]) -> str:
        return text

    assert a.llm_config["functions"][0]["name"] == "echo" and "tools" not in a.llm_config


def test_tool_name_with_spaces_is_accepted():
    a = ConversableAgent("a", llm_config=LLM)
    a.register_for_llm(name="fancy name", description="d")(lambda: "x")
    assert a.llm_config["tools"][0]["function"]["name"] == "fancy name"


def test_async_nested_chats_need_a_chat_id():
    a, b = agent("a"), agent("b")
    with pytest.raises(ValueError, match="chat_id is required for async nested chats"):
        a.register_nested_chats([{"recipient": b, "message": "hi"}], trigger=parley.Agent, use_async=True)


# ---------------------------------------------------------------- classic modules

def test_math_utils_vote_and_check():
    from parley.math_utils import eval_math_responses, get_answer, is_equiv

    assert get_answer("so the answer is \\boxed{\\frac{1}{2}}.") == "\\frac{1}{2}"
    assert is_equiv("\\dfrac12", "0.5") == 1.0
    result = eval_math_responses(["\\boxed{\\frac12}", "\\boxed{0.5}", "\\boxed{3}"], solution="\\boxed{\\dfrac{1}{2}}")
    assert result["success"] and result["success_vote"] == 1.0 and result["votes"] == 2


def test_graph_utils(caplog):
    from parley import graph_utils

    a, b, c = agent("a"), agent("b"), agent("c")
    assert graph_utils.has_self_loops({a: [a, b]}) and not graph_utils.has_self_loops({a: [b]})
    assert graph_utils.invert_disallowed_to_allowed({a: [b]}, [a, b, c]) == {a: [a, c], b: [a, b, c], c: [a, b, c]}
    with pytest.raises(ValueError):
        graph_utils.check_graph_validity({a: ["b"]}, [a, b])
    with caplog.at_level(logging.WARNING):
        graph_utils.check_graph_validity({a: [b, b], b: [a], c: []}, [a, b, c])
    assert "isolated" in caplog.text and "duplicate" in caplog.text


def test_token_count_works_offline():
    from parley.token_count_utils import (
        count_token,
        get_max_token_limit,
        num_tokens_from_functions,
    )

    assert count_token("I'm sorry, but I'm not able to") == 10
    messages = [{"role": "system", "content": "you are a helpful assistant. af3758 *3 33(3)"},
                {"role": "user", "content": "hello asdfjj qeweee"}]
    assert count_token(messages) == 34
    assert get_max_token_limit("gpt-35-turbo") == get_max_token_limit("gpt-3.5-turbo")
    sh = {"name": "sh", "description": "run a shell script and return the execution result.",
          "parameters": {"type": "object", "properties": {"script": {"type": "string", "description": "Valid shell script to execute."}},
                         "required": ["script"]}}
    assert num_tokens_from_functions([sh]) == 44


def test_cache_from_classic_config(tmp_path):
    from parley.cache.cache import Cache

    with Cache({"cache_seed": "s", "cache_path_root": str(tmp_path)}) as cache:
        cache.set("k", {"v": 1})
        assert cache.get("k") == {"v": 1}
    with pytest.raises(ValueError, match="unknown key"):
        Cache({"seed": 1})


def test_in_memory_cache_classic_signature():
    from parley.cache.in_memory_cache import InMemoryCache

    with InMemoryCache(seed="compat-test") as cache:
        cache.set("key", "value")
        assert cache.get("key") == "value" and cache.get("other", "default") == "default"


def test_coding_factory_and_extractor():
    from parley.coding import CodeExecutorFactory, MarkdownCodeExtractor

    with pytest.raises(ValueError, match="Unknown code executor unknown"):
        CodeExecutorFactory.create({"executor": "unknown"})
    with pytest.raises(ValueError, match="Unknown code executor None"):
        CodeExecutorFactory.create({})
    blocks = MarkdownCodeExtractor().extract_code_blocks("```bash\necho hi\n```\n```\nusing System;\nclass P {}\n```")
    assert [(b.language, b.code) for b in blocks] == [("bash", "echo hi"), ("", "using System;\nclass P {}")]


def test_functions_with_requirements():
    from parley.coding.func_with_reqs import (
        FunctionWithRequirements,
        build_functions_module,
        to_stub,
        with_requirements,
    )

    @with_requirements(python_packages=["pandas"], global_imports=["json"])
    def add(a: int, b: int) -> int:
        """Add two numbers together."""
        return a + b

    assert add(1, 2) == 3 and add.python_packages == ["pandas"]
    assert to_stub(add).startswith('def add(a: int, b: int) -> int:\n    """Add two numbers together."""')
    namespace: dict = {}
    exec(build_functions_module([add]), namespace)
    assert namespace["add"](2, 3) == 5 and "json" in namespace
    with pytest.raises(ValueError):
        FunctionWithRequirements.from_str("invaliddef f(): pass")


def test_decide_use_docker(monkeypatch):
    from parley.code_utils import check_can_use_docker_or_throw, decide_use_docker

    for value, expected in (("true", True), ("0", False), ("none", None)):
        monkeypatch.setenv("AUTOGEN_USE_DOCKER", value)
        assert decide_use_docker(None) is expected
    monkeypatch.setenv("AUTOGEN_USE_DOCKER", "invalid")
    with pytest.raises(ValueError):
        decide_use_docker(None)
    assert decide_use_docker(False) is False
    check_can_use_docker_or_throw(None)
    check_can_use_docker_or_throw(False)


def test_client_utils():
    from parley.oai.client_utils import should_hide_tools, validate_parameter

    assert validate_parameter({"max_tokens": -5}, "max_tokens", int, True, 512, (0, None), None) == 512
    assert validate_parameter({"temperature": "0.5"}, "temperature", (int, float), True, None, None, None) is None
    tools = [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "g"}}]
    called = [{"role": "assistant", "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": "{}"}}]},
              {"role": "tool", "tool_call_id": "1", "content": "ok"}]
    assert should_hide_tools(called, tools, "if_any_run") and not should_hide_tools(called, tools, "if_all_run")
    with pytest.raises(TypeError):
        should_hide_tools(called, tools, "sometimes")


def test_parse_tags_from_content():
    from parley.agentchat.utils import parse_tags_from_content

    found = parse_tags_from_content("img", "see <img http://x.com/a=b.png width='100'> and <img url='http://y.com/c.png'>")
    assert [t["attr"] for t in found] == [{"src": "http://x.com/a=b.png", "width": "100"}, {"url": "http://y.com/c.png"}]
    audio = parse_tags_from_content("audio", [{"type": "text", "text": "<audio text='Hello I'm a robot' prompt='whisper'>"}])
    assert audio[0]["attr"] == {"text": "Hello I'm a robot", "prompt": "whisper"}


def test_transform_messages_limit_what_the_model_sees():
    from parley.agentchat.contrib.capabilities.transform_messages import (
        TransformMessages,
    )
    from parley.agentchat.contrib.capabilities.transforms import (
        MessageHistoryLimiter,
        MessageTokenLimiter,
    )

    a = agent("a")
    TransformMessages(transforms=[MessageHistoryLimiter(max_messages=2), MessageTokenLimiter(max_tokens_per_message=2)],
                      verbose=False).add_to_agent(a)
    seen = []
    a.register_reply([parley.Agent, None], lambda recipient, messages, sender, config: (seen.append(messages), (True, "ok"))[1])
    words = ["zero", "one", "two", "three", "four"]
    history = [{"role": "system", "content": "sys"}] + [{"role": "user", "content": f"{w} is a long message"} for w in words]
    a.generate_reply(messages=history)
    assert seen[0][0]["content"] == "sys" and len(seen[0]) == 3
    assert [m["content"] for m in seen[0][1:]] == ["three is", "four is"]
    assert len(history) == 6  # the stored history is untouched

    with pytest.raises(ValueError, match="select_speaker_transform_messages must be None or MessageTransforms."):
        GroupChat([a, agent("b")], messages=[], select_speaker_transform_messages=[MessageHistoryLimiter(max_messages=1)])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_iowebsockets_human_input_over_a_real_websocket(monkeypatch):
    from websockets.sync.client import connect

    from parley.io import IOWebsockets
    from parley.io.console import console_sink

    monkeypatch.setattr(console_sink, "enabled", True)  # the transcript is what goes to the web page

    def on_connect(iostream):
        task = iostream.input()
        user = ConversableAgent("user", llm_config=False, human_input_mode="ALWAYS", max_consecutive_auto_reply=1)
        helper = agent("helper", max_consecutive_auto_reply=1)
        user.initiate_chat(helper, message=task, max_turns=2)
        iostream.print("DONE")

    with IOWebsockets.run_server_in_thread(on_connect=on_connect, port=_free_port()) as uri:
        with connect(uri) as websocket:
            websocket.send("Hello helper")
            received = []
            while True:
                text = websocket.recv(timeout=30)
                received.append(text)
                if "Provide feedback to helper" in text:
                    websocket.send("exit")
                if "DONE" in text:
                    break
    transcript = "".join(received)
    assert "Hello helper" in transcript and "This is helper speaking." in transcript


def test_api_key_is_needed_when_a_request_is_made_not_when_the_agent_is_built(monkeypatch, openai_server):
    from parley.models.protocol import ModelConfigError

    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    entry = {"model": "gpt-4o", "api_type": "azure", "base_url": openai_server.azure_endpoint, "api_version": "2024-06-01"}
    assistant = parley.AssistantAgent("assistant", llm_config={"config_list": [entry]})
    with pytest.raises(ModelConfigError, match="AZURE_OPENAI_API_KEY is not set"):
        assistant.generate_reply(messages=[{"role": "user", "content": "hi"}])
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "sk-set-later")
    assert isinstance(assistant.generate_reply(messages=[{"role": "user", "content": "hi"}]), (str, dict))


def test_select_speaker_auto_llm_config_with_a_custom_client_class():
    from types import SimpleNamespace

    class PickBob:
        def __init__(self, config, **kwargs):
            self.calls = 0

        def create(self, params):
            message = SimpleNamespace(content="bob", function_call=None, tool_calls=None)
            return SimpleNamespace(choices=[SimpleNamespace(message=message)], model="pick-bob")

        def message_retrieval(self, response):
            return [c.message.content for c in response.choices]

        def cost(self, response):
            return 0

        @staticmethod
        def get_usage(response):
            return {}

    alice, bob, carol = agent("alice"), agent("bob"), agent("carol")
    groupchat = GroupChat([alice, bob, carol], messages=[], max_round=3, allow_repeat_speaker=False,
                          select_speaker_auto_llm_config={"config_list": [{"model": "pick-bob", "model_client_cls": "PickBob"}]},
                          select_speaker_auto_model_client_cls=PickBob)
    alice.initiate_chat(GroupChatManager(groupchat, llm_config=False), message="hi")
    names = [m["name"] for m in groupchat.messages]
    assert len(names) == 3 and names[1] == "bob"  # chosen by the custom client, not the manager (it has no model)


def test_async_hook_before_send():
    a, b = agent("a"), agent("b", max_consecutive_auto_reply=1)

    async def shout(sender, message, recipient, silent):
        return message.upper() if isinstance(message, str) else message

    a.register_hook("a_process_message_before_send", shout)
    a.initiate_chat(b, message="hello", max_turns=1)
    assert b.chat_messages[a][0]["content"] == "HELLO"


def test_config_list_openai_aoai_reads_bases_from_env_and_files(monkeypatch, tmp_path):
    from parley.oai.openai_utils import (
        DEFAULT_AZURE_API_VERSION,
        config_list_openai_aoai,
    )

    for name in ("OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_BASE", "OPENAI_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "key_openai.txt").write_text("k1\nk2")
    (tmp_path / "base_openai.txt").write_text("http://a/v1\nhttp://b/v1")
    (tmp_path / "key_aoai.txt").write_text("az")
    (tmp_path / "base_aoai.txt").write_text("https://r.openai.azure.com")
    assert config_list_openai_aoai(key_file_path=str(tmp_path)) == [
        {"api_key": "k1", "base_url": "http://a/v1"}, {"api_key": "k2", "base_url": "http://b/v1"},
        {"api_key": "az", "base_url": "https://r.openai.azure.com", "api_type": "azure", "api_version": DEFAULT_AZURE_API_VERSION},
    ]
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("OPENAI_API_BASE", "http://c/v1")
    assert config_list_openai_aoai(key_file_path=None, exclude="aoai") == [{"api_key": "env-key", "base_url": "http://c/v1"}]


def test_llm_config_none_builds_without_the_local_extra_and_reports_it_at_reply(monkeypatch):
    import importlib.util

    from parley.models.protocol import ModelConfigError

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real_find_spec(name, *a))
    assistant = parley.AssistantAgent("assistant")  # llm_config=None: parley's offline default, built lazily
    with pytest.raises(ModelConfigError, match=r"pip install 'parley\[local\]'"):
        assistant.generate_reply(messages=[{"role": "user", "content": "hi"}])
