"""The reply protocol (parley.agents.reply_protocol): shapes that always parse, steering after a
successful run, and remote requests untouched unless the option is on."""

from __future__ import annotations

import json

import pytest

import parley
from parley.agents import reply_protocol as rp
from parley.models.local import LocalModelClient
from parley.models.protocol import ModelConfigError, ModelRequest
from parley.models.scripted import ScriptedModelClient

from .conftest import SECRET_KEY

PROMPTS = [
    "What is today's date?",
    "Print the first ten square numbers.",
    "Tell me a joke about cats.",
    "Write a haiku about the sea, then explain it line by line.",
]


def chat(text: str) -> list[dict]:
    return [{"role": "system", "content": parley.AssistantAgent.DEFAULT_SYSTEM_MESSAGE}, {"role": "user", "content": text}]


@pytest.fixture(scope="module")
def local() -> LocalModelClient:
    return LocalModelClient({"api_type": "local", "max_tokens": 96})


@pytest.mark.local_model
@pytest.mark.parametrize("shape", [rp.CODE, rp.ANSWER])
async def test_a_constrained_local_reply_always_parses_as_its_shape(local: LocalModelClient, shape: str) -> None:
    # Sampling at a high temperature, several seeds: the grammar holds whatever the model prefers.
    for seed, prompt in enumerate(PROMPTS):
        response = await local.create(ModelRequest(
            chat(prompt), response_format=rp.request_format(shape, local=True),
            params={"temperature": 1.5, "seed": seed, "max_tokens": 96},
        ))
        text = response.message["content"]
        if response.raw.finish_reason == "stop":
            assert rp.parses_as(text, shape), text  # a finished reply is the shape as generated
        assert rp.parses_as(rp.reply_text(text, shape, local=True), shape), text


@pytest.mark.local_model
async def test_a_reply_cut_off_by_max_tokens_is_completed_to_its_shape(local: LocalModelClient) -> None:
    response = await local.create(ModelRequest(
        chat("Print the first ten square numbers."), response_format=rp.request_format(rp.CODE, local=True),
        params={"temperature": 0.0, "max_tokens": 6},
    ))
    assert response.raw.finish_reason == "length"
    assert not rp.parses_as(response.message["content"], rp.CODE)
    assert rp.parses_as(rp.reply_text(response.message["content"], rp.CODE, local=True), rp.CODE)


@pytest.mark.parametrize("text", ["", "```", "```python\nprint(1)", "no fence at all\n", "```sh\n``` x", "a `b` c"])
@pytest.mark.parametrize("shape", [rp.CODE, rp.ANSWER])
def test_completing_any_text_gives_the_shape(text: str, shape: str) -> None:
    assert rp.parses_as(rp.complete_shape(text, shape), shape)


def test_a_bad_grammar_format_names_the_field() -> None:
    with pytest.raises(ModelConfigError, match=r"response_format\.grammar"):
        from parley.models.local import _is_grammar_format

        _is_grammar_format({"type": "grammar", "grammar": ""})


def test_bad_option_value_names_the_field() -> None:
    with pytest.raises(ModelConfigError, match=r"llm_config\['reply_protocol'\]"):
        parley.AssistantAgent("a", llm_config={"config_list": [{"api_type": "local"}], "reply_protocol": "yes"})


def shape_recording_model(formats: list, prompts: list) -> ScriptedModelClient:
    """A model that answers in whichever shape the request asks for (as JSON, the remote form)."""
    def reply(request: ModelRequest) -> str:
        formats.append(request.response_format)
        prompts.append(request.messages[-1]["content"])
        name = (request.response_format or {}).get("json_schema", {}).get("name")
        if name == "code_reply":
            return json.dumps({"language": "python", "code": "print(6 * 7)"})
        if name == "answer_reply":
            return json.dumps({"answer": "The product is 42."})
        return "unconstrained"
    return ScriptedModelClient(reply)


def test_the_answer_shape_is_chosen_after_a_successful_run(tmp_path) -> None:
    formats: list = []
    prompts: list = []
    assistant = parley.AssistantAgent("assistant", llm_config={
        "config_list": [{"model": "m", "client": shape_recording_model(formats, prompts)}], "reply_protocol": True})
    user = parley.UserProxyAgent("user", human_input_mode="NEVER", max_consecutive_auto_reply=5,
                                 is_termination_msg=lambda m: (m.get("content") or "").endswith("TERMINATE"),
                                 code_execution_config={"work_dir": str(tmp_path), "use_docker": False})
    result = user.initiate_chat(assistant, message="Multiply 6 by 7.", silent=True)
    names = [f["json_schema"]["name"] for f in formats]
    assert names == ["code_reply", "answer_reply"]
    contents = [m["content"] for m in result.chat_history]
    assert contents[1] == "```python\nprint(6 * 7)\n```"
    assert contents[2].startswith("exitcode: 0 (execution succeeded)") and "42" in contents[2]
    assert contents[3] == "The product is 42.\n\nTERMINATE"
    # The steering hint is in the answer call's prompt only, never in the history.
    assert prompts[1].endswith(rp.ANSWER_HINT + "42") and rp.ANSWER_HINT not in prompts[0]
    assert all(rp.ANSWER_HINT not in c for c in contents)


def test_the_hint_after_a_failed_run_asks_for_a_fix_and_leaves_other_prompts_alone() -> None:
    failed = [{"role": "user", "content": "exitcode: 1 (execution failed)\nCode output: \nNameError: x"}]
    # The hint, then the error line itself (what a tiny model reads last).
    assert rp.steered_prompt(failed, rp.CODE)[-1]["content"].endswith(f"{rp.FIX_HINT} The error: NameError: x")
    no_error_line = [{"role": "user", "content": "exitcode: 124 (execution failed)\nCode output: Timeout"}]
    assert rp.steered_prompt(no_error_line, rp.CODE)[-1]["content"].endswith(rp.FIX_HINT)
    assert failed[0]["content"].endswith("NameError: x")  # the caller's messages are not changed
    task = [{"role": "user", "content": "Compute 6 * 7."}]
    assert rp.steered_prompt(task, rp.CODE) == task


def test_local_prompts_get_the_worked_examples_after_the_system_message() -> None:
    prompt = chat("Compute 6 * 7.")
    steered = rp.with_examples(prompt)
    assert steered[0] == prompt[0] and steered[-1] == prompt[-1] and steered[1:-1] == rp.EXAMPLES
    # Each example is the protocol's exchange: a code block, its run, then an answer with TERMINATE.
    assert [rp.parses_as(m["content"], shape) for m, shape in zip(rp.EXAMPLES[1::2], [rp.CODE, rp.ANSWER] * 2, strict=True)] \
        == [True] * 4
    assert rp.with_examples([{"role": "user", "content": "no system message"}])[0]["role"] == "user"


def test_python_that_does_not_compile_is_told_apart() -> None:
    assert rp.python_compiles("```python\nprint(1)\n```")
    assert not rp.python_compiles("```python\nfor n in x\n    print(n)\n```")
    assert rp.python_compiles("```sh\necho (\n```")  # shell is not checked


async def test_a_local_code_reply_that_does_not_compile_is_resampled() -> None:
    calls: list = []

    def reply(request: ModelRequest) -> str:
        calls.append(request.params)
        return "```python\nprint(6 * 7\n```" if len(calls) == 1 else "```python\nprint(6 * 7)\n```"

    assistant = parley.AssistantAgent("assistant", llm_config={
        "config_list": [{"model": "m", "client": ScriptedModelClient(reply)}], "reply_protocol": True})
    # Judged a local model (the syntax check is for local models only); the replies stay scripted.
    assistant.llm_config = {"config_list": [{"api_type": "local"}], "reply_protocol": True}
    prompt = chat("Multiply 6 by 7.")
    _, text = await rp.constrained_reply(assistant, assistant.client, prompt, prompt[1:], (rp.CODE, rp.ANSWER))
    assert text == "```python\nprint(6 * 7)\n```"
    assert len(calls) == 2 and calls[1]["temperature"] == rp.RETRY_TEMPERATURE


def test_local_code_sampling_yields_to_the_config() -> None:
    local = {"config_list": [{"api_type": "local"}]}
    assert rp.sampling_params(local, rp.CODE, local=True) == {"repeat_penalty": 1.0, "max_tokens": rp.CODE_MAX_TOKENS}
    assert rp.sampling_params({**local, "max_tokens": 900}, rp.CODE, local=True) == {"repeat_penalty": 1.0}
    assert rp.sampling_params({"config_list": [{"api_type": "local", "repeat_penalty": 1.2, "max_tokens": 9}]},
                              rp.CODE, local=True) is None
    assert rp.sampling_params(local, rp.ANSWER, local=True) is None
    assert rp.sampling_params(local, rp.CODE, local=False) is None


@pytest.mark.parametrize(("result", "shape"), [
    ("exitcode: 0 (execution succeeded)\nCode output: \n42\n", rp.ANSWER),
    ("exitcode: 0 (execution succeeded)\nCode output: 42", rp.ANSWER),
    ("exitcode: 0 (execution succeeded)\nCode output: \n", rp.CODE),  # printed nothing: no answer yet
    ("exitcode: 1 (execution failed)\nCode output: \nNameError: x", rp.CODE),
    ("Compute 6 * 7.", rp.CODE),
])
def test_the_shape_follows_what_just_happened(result: str, shape: str) -> None:
    assert rp.choose_shape([{"role": "user", "content": result}], (rp.CODE, rp.ANSWER)) == shape


def test_the_protocol_is_on_by_default_only_for_a_local_assistant_replying_to_code_execution() -> None:
    system = parley.AssistantAgent.DEFAULT_SYSTEM_MESSAGE
    local = {"config_list": [{"api_type": "local"}]}
    runner = parley.UserProxyAgent("u", human_input_mode="NEVER", code_execution_config={"use_docker": False})
    talker = parley.UserProxyAgent("t", human_input_mode="NEVER", code_execution_config=False)
    assert rp.applies(local, system, runner, by_default=True) == (rp.CODE, rp.ANSWER)
    assert rp.applies(local, system, talker, by_default=True) == ()
    assert rp.applies(local, system, runner, by_default=False) == ()  # a plain ConversableAgent
    assert rp.applies(local, "You are a poet.", runner, by_default=True) == ()
    assert rp.applies({**local, "reply_protocol": False}, system, runner, by_default=True) == ()
    remote = {"config_list": [{"model": "gpt-4o-mini", "api_key": "k"}]}
    assert rp.applies(remote, system, runner, by_default=True) == ()
    assert rp.applies({**remote, "reply_protocol": True}, system, talker, by_default=True) == (rp.CODE, rp.ANSWER)


def remote_chat(openai_server, tmp_path, **option) -> list[dict]:
    openai_server.reset()
    openai_server.add({"content": "```python\nprint(6 * 7)\n```"}, {"content": "It is 42. TERMINATE"})
    config = {"config_list": [{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}],
              "temperature": 0, "cache_seed": None, **option}
    assistant = parley.AssistantAgent("assistant", llm_config=config)
    user = parley.UserProxyAgent("user", human_input_mode="NEVER", max_consecutive_auto_reply=3,
                                 is_termination_msg=lambda m: (m.get("content") or "").endswith("TERMINATE"),
                                 code_execution_config={"work_dir": str(tmp_path), "use_docker": False})
    user.initiate_chat(assistant, message="Multiply 6 by 7.", silent=True)
    return [dict(body) for body in openai_server.requests]


def test_remote_requests_are_unchanged_unless_the_option_is_on(openai_server, tmp_path) -> None:
    default = remote_chat(openai_server, tmp_path)
    off = remote_chat(openai_server, tmp_path, reply_protocol=False)
    assert len(default) == 2
    assert default == off
    assert all("response_format" not in body and "reply_protocol" not in body for body in default)
    assert "exitcode: 0" in default[1]["messages"][-1]["content"]
    assert rp.ANSWER_HINT not in default[1]["messages"][-1]["content"]


def test_remote_requests_carry_the_shape_as_a_json_schema_when_on(openai_server, tmp_path) -> None:
    openai_server.reset()
    openai_server.add({"content": json.dumps({"language": "python", "code": "print(6 * 7)"})},
                      {"content": json.dumps({"answer": "It is 42."})})
    config = {"config_list": [{"model": "gpt-4o-mini", "base_url": openai_server.base_url, "api_key": SECRET_KEY}],
              "cache_seed": None, "reply_protocol": True}
    assistant = parley.AssistantAgent("assistant", llm_config=config)
    user = parley.UserProxyAgent("user", human_input_mode="NEVER", max_consecutive_auto_reply=3,
                                 is_termination_msg=lambda m: (m.get("content") or "").endswith("TERMINATE"),
                                 code_execution_config={"work_dir": str(tmp_path), "use_docker": False})
    result = user.initiate_chat(assistant, message="Multiply 6 by 7.", silent=True)
    formats = [body["response_format"] for body in openai_server.requests]
    assert [f["json_schema"]["name"] for f in formats] == ["code_reply", "answer_reply"]
    assert formats[0]["type"] == "json_schema" and formats[0]["json_schema"]["schema"]["required"] == ["language", "code"]
    assert result.chat_history[-1]["content"] == "It is 42.\n\nTERMINATE"


@pytest.mark.local_model
def test_the_coding_demo_ends_offline_with_todays_date_and_terminate(tmp_path, monkeypatch) -> None:
    import datetime

    from parley import demos

    monkeypatch.delenv("OAI_CONFIG_LIST", raising=False)
    monkeypatch.chdir(tmp_path)  # no OAI_CONFIG_LIST file here: the embedded model
    result = demos.coding_demo(model="local", work_dir=str(tmp_path / "coding"))
    turns = [m for m in result.chat_history if m.get("name") == "assistant"]
    assert len(turns) <= 4
    assert turns[-1]["content"].rstrip().endswith("TERMINATE")
    runs = [m["content"] for m in result.chat_history if (m.get("content") or "").startswith("exitcode: 0")]
    assert runs and datetime.date.today().isoformat() in runs[-1]
