"""Classic tool registration as a classic script uses it (``autogen`` -> ``parley``): the
schemas the model is shown, names and descriptions through stacked decorators, what an
executing agent keeps in its function_map, and configs only a request can refuse."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel

from parley import ConversableAgent, UserProxyAgent
from parley.function_utils import get_function_schema
from parley.models.protocol import ModelConfigError

CONFIG = {"config_list": [{"model": "gpt-4o", "api_key": "sk-not-used"}]}


def test_schema_has_classic_shape_every_parameter_described():
    def forecast(city: Annotated[str, "the city"], days: int = 1) -> str:
        return city

    schema = get_function_schema(forecast, description="Forecast.")
    assert schema["function"]["parameters"] == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "the city"},
            "days": {"type": "integer", "description": "days", "default": 1},  # its name, as classic
        },
        "required": ["city"],
    }


def test_stacked_decorators_share_name_description_and_origin():
    caller1 = ConversableAgent("caller1", llm_config=CONFIG)
    caller2 = ConversableAgent("caller2", llm_config=CONFIG)
    runner1 = UserProxyAgent("runner1", human_input_mode="NEVER", code_execution_config=False)
    runner2 = UserProxyAgent("runner2", human_input_mode="NEVER", code_execution_config=False)

    @runner2.register_for_execution()
    @caller2.register_for_llm()
    @caller1.register_for_llm(description="Run a shell script.")
    @runner1.register_for_execution(name="sh")
    def exec_sh(script: Annotated[str, "the script"]) -> str:
        return f"ran {script}"

    # The name given to the first decorator serves every one above it.
    assert [t["function"]["name"] for t in caller1.llm_config["tools"]] == ["sh"]
    assert caller2.llm_config["tools"] == caller1.llm_config["tools"]
    assert set(runner1.function_map) == set(runner2.function_map) == {"sh"}
    assert runner1.function_map["sh"]._origin is exec_sh
    ok, message = runner2.execute_function({"name": "sh", "arguments": json.dumps({"script": "ls"})})
    assert ok and message["content"] == "ran ls"


def test_missing_description_has_classic_text_and_names_the_function():
    caller = ConversableAgent("caller", llm_config=CONFIG)
    with pytest.raises(ValueError) as error:

        @caller.register_for_llm()
        def undocumented(x: int) -> int:
            return x

    assert error.value.args[0] == "Function description is required, none found."
    assert any("'undocumented'" in note for note in error.value.__notes__)


class Money(BaseModel):
    currency: Literal["USD", "EUR"]
    amount: float


def test_wrapped_function_loads_models_and_returns_text():
    def convert(base: Annotated[Money, "what to convert"], to: Literal["USD", "EUR"] = "EUR") -> Money:
        return Money(currency=to, amount=base.amount * 2)

    async def a_convert(base: Annotated[Money, "what to convert"]) -> Money:
        return base

    agent = ConversableAgent("a", llm_config=False)
    wrapped = agent._wrap_function(convert)
    assert wrapped(base={"currency": "USD", "amount": 1.5}) == '{"currency":"EUR","amount":3.0}'
    assert wrapped._origin is convert
    a_wrapped = agent._wrap_function(a_convert)
    assert asyncio.run(a_wrapped(base={"currency": "USD", "amount": 2})) == '{"currency":"USD","amount":2.0}'


def test_entry_without_model_is_refused_at_the_request_not_when_built():
    # Classic: an agent (and its tools) can be set up from an entry without a model.
    agent = ConversableAgent("a", llm_config={"config_list": [{"base_url": "http://127.0.0.1:9/v1", "api_key": "NULL"}]},
                             human_input_mode="NEVER")
    agent.update_tool_signature({"type": "function", "function": {"name": "yo"}}, is_remove=False)
    with pytest.warns(UserWarning, match="Function 'yo' is being overridden."):
        agent.update_tool_signature({"type": "function", "function": {"name": "yo"}}, is_remove=False)
    with pytest.raises(ModelConfigError, match=r"llm_config\['config_list'\]\[0\]\['model'\] must be a non-empty string"):
        agent.generate_reply([{"role": "user", "content": "hi"}])
    # A blank model is still refused when the agent is built, as classic.
    with pytest.raises(ValueError, match="specify a non-empty 'model'"):
        ConversableAgent("b", llm_config={"config_list": [{"model": ""}]})


def test_model_json_with_raw_newlines_is_read_as_classic_read_it():
    runner = UserProxyAgent("runner", human_input_mode="NEVER", code_execution_config=False,
                            function_map={"run": lambda code: f"got {code!r}"})
    # A model writing code into a JSON string often leaves the newline raw.
    ok, message = runner.execute_function({"name": "run", "arguments": '{\n"code": "x=3\nprint(x)"\n}'})
    assert ok and message["content"] == "got 'x=3\\nprint(x)'"
    formatted = runner._format_json_str('{\n"code": "a\n\tb", "q": "say \\"hi\\"\n"}')
    assert formatted == '{"code": "a\\n\\tb", "q": "say \\"hi\\"\\n"}'


def test_carryover_is_appended_as_context():
    a = ConversableAgent("a", llm_config=False)
    assert a._process_carryover("Task.", {"carryover": ["one", {"content": "two"}]}) == "Task.\nContext: \none\ntwo"
    assert a._handle_carryover({"content": "Task."}, {"carryover": "one"}) == {"content": "Task.\nContext: \none"}
    assert a._process_carryover("Task.", {"carryover": None}) == "Task."


def test_content_str_refuses_non_dict_parts_as_classic():
    from parley.code_utils import content_str

    assert content_str([{"type": "text", "text": "hi "}, {"type": "image_url", "image_url": {"url": "x"}}]) == "hi <image>"
    with pytest.raises(TypeError, match="every element should be dict"):
        content_str(["raw", {"type": "text", "text": "t"}])


def test_register_model_client_registers_one_entry_per_call(caplog):
    from parley import OpenAIWrapper

    made = []

    class EchoModel:
        def __init__(self, config, tag=""):
            made.append((config["model"], tag))

        def create(self, params):
            raise AssertionError("not called")

        def message_retrieval(self, response):
            return []

        def cost(self, response):
            return 0

        @staticmethod
        def get_usage(response):
            return {}

    wrapper = OpenAIWrapper(config_list=[{"model": "m1", "model_client_cls": "EchoModel"},
                                         {"model": "m2", "model_client_cls": "EchoModel"}])
    wrapper.register_model_client(EchoModel, tag="first")
    with pytest.raises(RuntimeError, match="not registered"):  # m2 still waits for its own call
        wrapper.create(messages=[{"role": "user", "content": "2+2="}])
    wrapper.register_model_client(EchoModel, tag="second")
    assert made == [("m1", "first"), ("m2", "second")]
    wrapper.register_model_client(EchoModel)
    assert "Model client EchoModel is already registered" in caplog.text
    with pytest.raises(ValueError, match='Model client "dict" is being registered but was not found in the config_list'):
        wrapper.register_model_client(dict)


def test_streamed_deltas_fold_as_classic():
    from types import SimpleNamespace

    from parley import OpenAIWrapper

    call: dict = {}
    for piece in ({"name": "get_weather"}, {"arguments": '{"city"'}, {"arguments": ': "Paris"}'}):
        for field in ("name", "arguments"):
            OpenAIWrapper._update_dict_from_chunk(SimpleNamespace(**piece), call, field)
    assert call == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    d = {"n": 1}
    assert OpenAIWrapper._update_dict_from_chunk(SimpleNamespace(n=False), d, "n") == 1 and d == {"n": False}
    assert OpenAIWrapper._update_dict_from_chunk(SimpleNamespace(n=None), d, "n") == 0
    with pytest.raises(NotImplementedError):
        OpenAIWrapper._update_dict_from_chunk(SimpleNamespace(n=[]), d, "n")


def test_console_prints_tool_calls_and_execution_as_classic():
    import parley
    from parley.io.console import console_sink
    from parley.models.scripted import ScriptedModelClient

    calls = [{"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1,\n "b": 2}'}}]
    client = ScriptedModelClient([{"content": None, "tool_calls": calls}, "3 TERMINATE"])
    assistant = ConversableAgent("assistant", llm_config={"config_list": [{"model": "s", "client": client}]})
    user = UserProxyAgent("user", human_input_mode="NEVER", code_execution_config=False, function_map={"add": lambda a, b: a + b},
                          is_termination_msg=lambda m: "TERMINATE" in (m.get("content") or ""))
    stream = parley.IOQueue()
    console_sink.enabled = True
    with parley.IOStream.set_default(stream):
        user.initiate_chat(assistant, message="1 + 2?")
    out = stream.output
    # The arguments exactly as the model wrote them, then classic's execution line.
    assert '***** Suggested tool call (call_1): add *****\nArguments: \n{"a": 1,\n "b": 2}\n' in out
    assert "\n>>>>>>>> EXECUTING FUNCTION add..." in out
    order = [out.index(text) for text in ("Suggested tool call", "EXECUTING FUNCTION add", "Response from calling tool (call_1)")]
    assert order == sorted(order)


def test_console_code_block_lines_are_classics():
    import parley
    from parley import events
    from parley.io.console import console_sink

    stream = parley.IOQueue()
    console_sink.enabled = True
    with parley.IOStream.set_default(stream):
        console_sink(events.CodeExecutionStarted(agent="user", blocks=1, languages=["python"]))
        console_sink(events.CodeExecutionStarted(agent="user", blocks=2, languages=["python", "sh"]))
    assert stream.output.splitlines()[1:] == [
        ">>>>>>>> EXECUTING CODE BLOCK (inferred language is python)...", "",
        ">>>>>>>> EXECUTING 2 CODE BLOCKS (inferred languages are [python, sh])...",
    ]
