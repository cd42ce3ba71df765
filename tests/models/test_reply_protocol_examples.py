"""The reply protocol's help for small local models, rule by rule: the worked examples in a code
reply's prompt, and sampled retries of Python that does not compile (mapped for mutation testing)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import parley
from parley.agents import reply_protocol as rp
from parley.models.scripted import ScriptedModelClient

SYSTEM = parley.AssistantAgent.DEFAULT_SYSTEM_MESSAGE
TASK = {"role": "user", "content": "Multiply 6 by 7."}


def _quadruples():
    assert len(rp.EXAMPLES) % 4 == 0 and rp.EXAMPLES
    return [rp.EXAMPLES[i:i + 4] for i in range(0, len(rp.EXAMPLES), 4)]


@pytest.mark.parametrize("index", range(2))
def test_each_worked_example_is_a_true_run_in_the_protocol_s_shapes(index, tmp_path):
    task, code, result, answer = _quadruples()[index]
    assert [task["role"], code["role"], result["role"], answer["role"]] == ["user", "assistant", "user", "assistant"]
    assert set(task) == set(code) == set(result) == set(answer) == {"role", "content"}
    assert rp.parses_as(code["content"], rp.CODE) and code["content"].startswith("```python\n")
    assert rp.parses_as(answer["content"], rp.ANSWER)
    # The code prints what the example says it printed (the file example reads a file of its own).
    (tmp_path / "notes.txt").write_text("buy milk\nwalk the dog\n")
    script = code["content"].removeprefix("```python\n").removesuffix("\n```")
    printed = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    # The result is what the runner sends for that output, steered as the protocol steers it.
    ran = {"role": "user", "content": f"exitcode: 0 (execution succeeded)\nCode output: \n{printed}"}
    assert rp.steered_prompt([ran], rp.ANSWER) == [result]
    assert printed.strip() in answer["content"] and printed.strip() in task["content"] + answer["content"]


def test_the_examples_are_general_tasks():
    tasks = [q[0]["content"] for q in _quadruples()]
    assert tasks == ["How many seconds are there in 3 hours? Print the result.", "Print the first line of the file notes.txt."]
    assert [q[3]["content"] for q in _quadruples()] == [
        "There are 10800 seconds in 3 hours.\n\nTERMINATE", "The first line of notes.txt is: buy milk\n\nTERMINATE"]


def test_the_examples_go_right_after_the_system_message(monkeypatch):
    system, rest = {"role": "system", "content": "s"}, [TASK, {"role": "assistant", "content": "x"}]
    assert rp.with_examples([system, *rest]) == [system, *rp.EXAMPLES, *rest]
    assert rp.with_examples([TASK]) == [TASK]  # no system message: nothing to put them after
    assert rp.with_examples([]) == []
    monkeypatch.setattr(rp, "USE_EXAMPLES", False)
    assert rp.with_examples([system, *rest]) == [system, *rest]


@pytest.mark.parametrize(("text", "compiles"), [
    ("```python\nprint(1)\n```", True),
    ("```python\nprint(1\n```", False),
    ("```python\nif x:\nprint(1)\n```", False),  # an IndentationError is a SyntaxError
    ("```python\nprint('\x00')\n```", False),  # a null byte: ValueError or SyntaxError, by version
    ("```python\n```", True),  # an empty block compiles
    ("```sh\nfi fi (\n```", True),  # shell is not Python: not checked
    ("not a block", True),  # not a code reply: nothing to check
])
def test_python_compiles(text, compiles):
    assert rp.python_compiles(text) is compiles


def _local(replies):
    model = ScriptedModelClient(replies)
    model.keep_requests = True
    assistant = parley.AssistantAgent("assistant", system_message=SYSTEM, llm_config={
        "config_list": [{"model": "m", "api_type": "local", "client": model}], "cache_seed": None})
    return assistant, model


def _runner(tmp_path):
    return parley.UserProxyAgent("runner", human_input_mode="NEVER",
                                 code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})


def test_a_code_reply_s_prompt_has_the_examples_and_an_answer_s_has_none(tmp_path):
    assistant, model = _local(["```python\nprint(6 * 7)\n```", "It is 42."])
    assistant.generate_reply([TASK], _runner(tmp_path))
    code_request = model.requests[-1]
    assert code_request.messages[0]["role"] == "system" and code_request.messages[1:len(rp.EXAMPLES) + 1] == rp.EXAMPLES
    assert code_request.messages[len(rp.EXAMPLES) + 1:] == [TASK]
    ran = {"role": "user", "content": "exitcode: 0 (execution succeeded)\nCode output: \n42\n"}
    assistant.generate_reply([TASK, {"role": "assistant", "content": "```python\nprint(6 * 7)\n```"}, ran], _runner(tmp_path))
    answer_request = model.requests[-1]
    assert not any(m in answer_request.messages for m in rp.EXAMPLES)
    assert len(answer_request.messages) == 4


def test_python_that_does_not_compile_is_sampled_again_until_it_does(tmp_path):
    broken, fixed = "```python\nprint(6 *\n```", "```python\nprint(6 * 7)\n```"
    assistant, model = _local([broken, broken, fixed])
    assert assistant.generate_reply([TASK], _runner(tmp_path)) == fixed
    first, second, third = model.requests
    assert first.params == {"repeat_penalty": 1.0, "max_tokens": 256}
    # Seeded by the turn and the attempt: a run is reproducible, each attempt different.
    assert second.params == {"repeat_penalty": 1.0, "max_tokens": 256, "temperature": rp.RETRY_TEMPERATURE, "seed": 1}
    assert third.params == {"repeat_penalty": 1.0, "max_tokens": 256, "temperature": rp.RETRY_TEMPERATURE, "seed": 1001}
    assert first.messages == second.messages == third.messages
    assert first.response_format == second.response_format == third.response_format


def test_syntax_retries_stop_at_their_number_and_keep_the_last_attempt(tmp_path):
    attempts = [f"```python\nprint({i} *\n```" for i in range(rp.SYNTAX_RETRIES + 1)]
    assistant, model = _local([*attempts, "```python\nprint(1)\n```"])
    assert assistant.generate_reply([TASK], _runner(tmp_path)) == attempts[-1]
    assert len(model.requests) == rp.SYNTAX_RETRIES + 1


def test_compiling_python_is_kept_and_a_remote_model_is_never_asked_again_for_syntax(tmp_path):
    assistant, model = _local(["```python\nprint(1)\n```", "unused"])
    assistant.generate_reply([TASK], _runner(tmp_path))
    assert len(model.requests) == 1
    remote = ScriptedModelClient(["```python\nprint(6 *\n```", "unused"])
    remote.keep_requests = True
    agent = parley.AssistantAgent("assistant", system_message=SYSTEM, llm_config={
        "config_list": [{"model": "m", "client": remote}], "cache_seed": None, "reply_protocol": True})
    assert agent.generate_reply([TASK], _runner(tmp_path)) == "```python\nprint(6 *\n```"
    assert len(remote.requests) == 1 and not any(m in remote.requests[0].messages for m in rp.EXAMPLES)


def test_the_fix_hint_names_the_error_only_when_there_is_one_and_the_switch_is_on(monkeypatch):
    failed = {"role": "user", "content": "exitcode: 1 (execution failed)\nCode output: \nTraceback\nNameError: x"}
    assert rp.steered_prompt([failed], rp.CODE)[-1]["content"] == failed["content"] + "\n\n" + rp.FIX_HINT + " The error: NameError: x"
    no_error_line = {"role": "user", "content": "exitcode: 1 (execution failed)\nCode output: \nsomething went wrong"}
    assert rp.steered_prompt([no_error_line], rp.CODE)[-1]["content"] == no_error_line["content"] + "\n\n" + rp.FIX_HINT
    monkeypatch.setattr(rp, "ERROR_IN_HINT", False)
    assert rp.steered_prompt([failed], rp.CODE)[-1]["content"] == failed["content"] + "\n\n" + rp.FIX_HINT
