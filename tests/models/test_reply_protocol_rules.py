"""The reply protocol's rules one by one (parley.agents.reply_protocol), without a model: which
shapes apply, which one is chosen, the request and the steering it makes, and how a reply is
turned into and completed to its shape. The conversation logic runs on a ScriptedModelClient."""

from __future__ import annotations

import json

import pytest

import parley
from parley.agents import reply_protocol as rp
from parley.models.scripted import ScriptedModelClient

SYSTEM = parley.AssistantAgent.DEFAULT_SYSTEM_MESSAGE
LOCAL = {"config_list": [{"api_type": "local"}]}
SUCCESS = "exitcode: 0 (execution succeeded)\nCode output: \n42\n"
FAILURE = "exitcode: 1 (execution failed)\nCode output: \nNameError: x"
SILENT = "exitcode: 0 (execution succeeded)\nCode output: \n"


class Runner:
    def __init__(self) -> None:
        self.code_execution_config = {"use_docker": False}


class Talker:
    code_execution_config = False


# ----------------------------------------------------------------- which shapes apply

def test_the_shapes_a_system_message_asks_for():
    assert rp.shapes_asked(SYSTEM) == (rp.CODE, rp.ANSWER)
    assert rp.shapes_asked("Reply in a Code Block.") == (rp.CODE,)
    assert rp.shapes_asked("Use one CODING BLOCK.") == (rp.CODE,)
    assert rp.shapes_asked("Say TERMINATE at the end.") == (rp.ANSWER,)
    assert rp.shapes_asked("say terminate at the end") == ()  # the keyword is upper case
    assert rp.shapes_asked("Write a code snippet.") == ()
    assert rp.shapes_asked([{"type": "text", "text": "code block TERMINATE"}]) == ()
    assert rp.shapes_asked(None) == ()


def test_a_local_config_is_one_whose_every_entry_is_local():
    assert rp.is_local(LOCAL)
    assert rp.is_local({"api_type": "local"})  # a config without a config list is its own entry
    assert rp.is_local({"config_list": [], "api_type": "local"})
    assert not rp.is_local({"config_list": [{"api_type": "local"}, {"model": "gpt-4o"}]})
    assert not rp.is_local({"config_list": [{"model": "gpt-4o"}]})
    assert not rp.is_local({"config_list": ["local"]})
    assert not rp.is_local({})


def test_by_default_the_protocol_needs_a_local_model_a_code_runner_and_both_shapes_asked():
    assert rp.applies(LOCAL, SYSTEM, Runner(), by_default=True) == (rp.CODE, rp.ANSWER)
    assert rp.applies(LOCAL, SYSTEM, None, by_default=True) == ()  # no sender: nothing runs the code
    assert rp.applies(LOCAL, SYSTEM, Talker(), by_default=True) == ()
    assert rp.applies(LOCAL, SYSTEM, Runner(), by_default=False) == ()
    assert rp.applies({"config_list": [{"model": "m"}]}, SYSTEM, Runner(), by_default=True) == ()
    assert rp.applies(LOCAL, "Reply in a code block.", Runner(), by_default=True) == ()  # one shape only
    assert rp.applies(LOCAL, "End with TERMINATE.", Runner(), by_default=True) == ()


def test_reply_protocol_true_turns_it_on_for_any_model_and_sender():
    on = {"config_list": [{"model": "m"}], "reply_protocol": True}
    assert rp.applies(on, SYSTEM, None, by_default=False) == (rp.CODE, rp.ANSWER)
    assert rp.applies(on, "Reply in a code block.", Talker(), by_default=False) == (rp.CODE,)
    assert rp.applies(on, "End with TERMINATE.", Talker(), by_default=False) == (rp.ANSWER,)
    assert rp.applies(on, "You are a poet.", Talker(), by_default=False) == (rp.CODE, rp.ANSWER)


def test_reply_protocol_false_or_tools_turn_it_off():
    assert rp.applies({**LOCAL, "reply_protocol": False}, SYSTEM, Runner(), by_default=True) == ()
    tool = [{"type": "function", "function": {"name": "f"}}]
    for on in ({**LOCAL}, {**LOCAL, "reply_protocol": True}):
        assert rp.applies({**on, "tools": tool}, SYSTEM, Runner(), by_default=True) == ()
        assert rp.applies({**on, "functions": [{"name": "f"}]}, SYSTEM, Runner(), by_default=True) == ()
        assert rp.applies({**on, "tools": []}, SYSTEM, Runner(), by_default=True) == (rp.CODE, rp.ANSWER)


# ----------------------------------------------------------------- which shape, and the request

def test_the_printed_output_of_a_successful_run():
    assert rp.successful_output({"content": SUCCESS}) == "42"
    assert rp.successful_output({"content": "exitcode: 0 (execution succeeded)\nCode output: 1\n2"}) == "1\n2"
    assert rp.successful_output({"content": SILENT}) == ""
    assert rp.successful_output({"content": FAILURE}) is None
    assert rp.successful_output({"content": None}) is None
    assert rp.successful_output({}) is None


def test_one_shape_asked_is_always_the_one_chosen():
    assert rp.choose_shape([{"content": SUCCESS}], (rp.CODE,)) == rp.CODE
    assert rp.choose_shape([{"content": "a task"}], (rp.ANSWER,)) == rp.ANSWER
    assert rp.choose_shape([], (rp.CODE, rp.ANSWER)) == rp.CODE
    assert rp.choose_shape([{"content": SUCCESS}, {"content": "a new task"}], (rp.CODE, rp.ANSWER)) == rp.CODE


def test_the_request_format_of_each_shape():
    assert rp.request_format(rp.CODE, local=True) == {"type": "grammar", "grammar": rp.GRAMMARS[rp.CODE]}
    assert rp.request_format(rp.ANSWER, local=True) == {"type": "grammar", "grammar": rp.GRAMMARS[rp.ANSWER]}
    assert rp.request_format(rp.CODE, local=False) == {"type": "json_schema", "json_schema": {
        "name": "code_reply", "strict": True, "schema": {
            "type": "object",
            "properties": {"language": {"type": "string", "enum": ["python", "sh"]}, "code": {"type": "string"}},
            "required": ["language", "code"], "additionalProperties": False}}}
    assert rp.request_format(rp.ANSWER, local=False) == {"type": "json_schema", "json_schema": {
        "name": "answer_reply", "strict": True, "schema": {
            "type": "object", "properties": {"answer": {"type": "string"}},
            "required": ["answer"], "additionalProperties": False}}}


def test_the_steering_hint_after_each_kind_of_run():
    def last(content, shape, **extra):
        return rp.steered_prompt([{"role": "system", "content": "s"}, {"role": "user", "content": content, **extra}],
                                 shape)

    steered = last(SUCCESS, rp.ANSWER, name="user")
    assert steered[0] == {"role": "system", "content": "s"}
    assert steered[1] == {"role": "user", "name": "user", "content": SUCCESS.rstrip() + "\n\n" + rp.ANSWER_HINT + "42"}
    assert last("exitcode: 0 (execution succeeded)\nCode output: \na\nb\n", rp.ANSWER)[-1]["content"].endswith(
        rp.ANSWER_HINT + "a b")
    assert last(SILENT, rp.CODE)[-1]["content"] == SILENT.rstrip() + "\n\n" + rp.PRINT_HINT
    assert last(FAILURE, rp.CODE)[-1]["content"] == FAILURE + "\n\n" + rp.FIX_HINT + " The error: NameError: x"
    # No hint: a task (not a run), an answer after a failed run, code after a run that printed.
    for content, shape in (("Compute 6 * 7.", rp.CODE), (FAILURE, rp.ANSWER), ("exitcode: 0 x", rp.ANSWER)):
        prompt = [{"role": "user", "content": content}]
        assert rp.steered_prompt(prompt, shape) is prompt
    assert rp.steered_prompt([], rp.CODE) == []
    parts = [{"role": "user", "content": [{"type": "text", "text": SUCCESS}]}]
    assert rp.steered_prompt(parts, rp.ANSWER) is parts


def test_the_steering_keeps_the_earlier_messages_and_the_output_s_spacing():
    prompt = [{"role": "system", "content": "s"}, {"role": "user", "content": "task"},
              {"role": "assistant", "content": "```python\nprint('x  y')\n```"},
              {"role": "user", "content": "exitcode: 0 (execution succeeded)\nCode output: x  y\tz\n1"}]
    steered = rp.steered_prompt(prompt, rp.ANSWER)
    assert steered[:3] == prompt[:3]
    assert steered[3]["content"].endswith("\n\n" + rp.ANSWER_HINT + "x  y\tz 1")


def test_the_answer_hint_repeats_the_last_300_characters_of_the_output():
    output = "x" * 50 + "y" * 300
    steered = rp.steered_prompt([{"role": "user", "content": f"exitcode: 0 (execution succeeded)\nCode output: {output}"}],
                                rp.ANSWER)
    assert steered[-1]["content"].endswith("\n\n" + rp.ANSWER_HINT + "y" * 300)


# ----------------------------------------------------------------- a reply in its shape

def test_a_json_code_reply_is_written_as_a_block():
    assert rp.reply_text(json.dumps({"language": "sh", "code": "ls\n\n"}), rp.CODE, local=False) == "```sh\nls\n```"
    assert rp.reply_text(json.dumps({"language": "ruby", "code": "puts 1"}), rp.CODE, local=False) == (
        "```python\nputs 1\n```")
    assert rp.reply_text(json.dumps({"code": "print(1)"}), rp.CODE, local=False) == "```python\nprint(1)\n```"
    # A code reply without its code is completed as text.
    assert rp.reply_text(json.dumps({"language": "sh", "code": 3}), rp.CODE, local=False) == (
        '```python\n{"language": "sh", "code": 3}\n```')


def test_a_json_answer_reply_is_one_paragraph_then_terminate():
    assert rp.reply_text(json.dumps({"answer": "  It is 42. TERMINATE "}), rp.ANSWER, local=False) == (
        "It is 42.\n\nTERMINATE")
    assert rp.reply_text(json.dumps({"answer": "one\ntwo ```x```"}), rp.ANSWER, local=False) == (
        "one two '''x'''\n\nTERMINATE")
    assert rp.reply_text(json.dumps({"answer": "a  b\tc\nd"}), rp.ANSWER, local=False) == "a  b\tc d\n\nTERMINATE"
    assert rp.reply_text(json.dumps({"answer": 42}), rp.ANSWER, local=False) == '{"answer": 42}\n\nTERMINATE'
    # An answer-shaped JSON reply is no code, nor the other way round.
    assert rp.reply_text(json.dumps({"answer": "x"}), rp.CODE, local=False) == '```python\n{"answer": "x"}\n```'
    assert rp.reply_text(json.dumps({"code": "x"}), rp.ANSWER, local=False) == '{"code": "x"}\n\nTERMINATE'


def test_a_local_reply_is_text_never_json():
    reply = json.dumps({"answer": "It is 42."})
    assert rp.reply_text(reply, rp.ANSWER, local=True) == reply + "\n\nTERMINATE"
    assert rp.reply_text("It is 42. TERMINATE", rp.ANSWER, local=True) == "It is 42. TERMINATE"
    assert rp.reply_text("not json {", rp.ANSWER, local=False) == "not json {\n\nTERMINATE"
    assert rp.reply_text(None, rp.ANSWER, local=True) == "Done.\n\nTERMINATE"
    assert rp.reply_text(None, rp.CODE, local=False) == "```python\n\n```"
    assert rp.reply_text("[1, 2]", rp.ANSWER, local=False) == "[1, 2]\n\nTERMINATE"


@pytest.mark.parametrize(("text", "completed"), [
    ("```python\nprint(1)\n```", "```python\nprint(1)\n```"),
    ("```sh\nls", "```sh\nls\n```"),
    ("```python\nprint(1)\n", "```python\nprint(1)\n```"),
    ("```js\nx()\n```", "```python\nx()\n```"),  # no language of the protocol: python, the fence dropped
    ("print(1)\nprint(2)", "```python\nprint(1)\nprint(2)\n```"),
    ("\n\nprint(1)\n\n", "```python\nprint(1)\n```"),
    ("```python\nprint(1)\n```\n```python\nprint(2)\n```", "```python\nprint(1)\nprint(2)\n```"),
    ("```python\n`x`\nprint(1)", "```python\nprint(1)\n```"),
    ("```python\n\nx\n\n```", "```python\n\nx\n\n```"),  # a block as it should be is left alone
    ("```python\n    indented()", "```python\n    indented()\n```"),  # only newlines are trimmed
    ("", "```python\n\n```"),
])
def test_a_code_reply_is_completed_to_one_block(text, completed):
    assert rp.complete_shape(text, rp.CODE) == completed
    assert rp.parses_as(completed, rp.CODE)


@pytest.mark.parametrize(("text", "completed"), [
    ("It is 42. TERMINATE", "It is 42. TERMINATE"),
    ("It is 42.\nTERMINATE", "It is 42.\nTERMINATE"),
    ("It is 42.", "It is 42.\n\nTERMINATE"),
    ("  It is\n`42`  ", "It is '42'\n\nTERMINATE"),
    ("a  b\tc", "a  b\tc\n\nTERMINATE"),
    ("\n", "Done.\n\nTERMINATE"),
    # A TERMINATE that does not end the text as the shape wants is not written twice.
    ("It is 42. TERMINATE\n", "It is 42.\n\nTERMINATE"),
    ("It is 42.TERMINATE", "It is 42.\n\nTERMINATE"),
    ("TERMINATE", "Done.\n\nTERMINATE"),
    ("", "Done.\n\nTERMINATE"),
])
def test_an_answer_is_completed_with_terminate(text, completed):
    assert rp.complete_shape(text, rp.ANSWER) == completed
    assert rp.parses_as(completed, rp.ANSWER)


@pytest.mark.parametrize(("text", "shape", "parses"), [
    ("```python\nprint(1)\n```", rp.CODE, True),
    ("```sh\nls\n```", rp.CODE, True),
    ("```python\n```", rp.CODE, True),
    ("```python\nprint(1)\n``` ", rp.CODE, False),
    ("```python\n`x`\n```", rp.CODE, False),
    ("```python\nx\n```\n```python\ny\n```", rp.CODE, False),
    ("```js\nx\n```", rp.CODE, False),
    ("x ```python\nx\n```", rp.CODE, False),
    ("It is 42. TERMINATE", rp.ANSWER, True),
    ("It is 42.\n\nTERMINATE", rp.ANSWER, True),
    ("It is 42.TERMINATE", rp.ANSWER, False),
    ("It is\n42. TERMINATE", rp.ANSWER, False),
    ("It is `42`. TERMINATE", rp.ANSWER, False),
    (" TERMINATE", rp.ANSWER, False),
    ("It is 42. TERMINATE.", rp.ANSWER, False),
    ("It is 42. TERMINATE\n", rp.ANSWER, False),
    ("```python\nprint(1)\n```\n", rp.CODE, False),
])
def test_what_parses_as_a_shape(text, shape, parses):
    assert rp.parses_as(text, shape) is parses


# ----------------------------------------------------------------- sampling and the retry

def test_local_code_sampling_reads_every_entry_and_the_config():
    assert rp.sampling_params({"config_list": [{"api_type": "local"}, {"api_type": "local", "max_tokens": 9}]},
                              rp.CODE, local=True) == {"repeat_penalty": rp.CODE_REPEAT_PENALTY}
    assert rp.sampling_params({"config_list": ["odd", {"api_type": "local"}]}, rp.CODE, local=True) == {
        "repeat_penalty": 1.0, "max_tokens": 256}
    assert rp.sampling_params({"repeat_penalty": 1.3}, rp.CODE, local=True) == {"max_tokens": 256}


def test_a_code_reply_that_failed_before_is_recognised():
    block = "```python\nprint(x)\n```"
    sent = {"role": "assistant", "content": block}
    assert rp.failed_before(block, [sent, {"role": "user", "content": FAILURE}])
    assert rp.failed_before(block + "\n", [{"content": "  " + block}, {"content": FAILURE}])
    assert not rp.failed_before(block, [sent, {"role": "user", "content": SUCCESS}])
    assert not rp.failed_before(block, [sent, {"role": "user", "content": "exitcode: 0 (execution succeeded)"}])
    assert not rp.failed_before(block, [sent, {"role": "user", "content": "It failed: " + FAILURE}])
    assert not rp.failed_before(block, [sent, {"role": "user", "content": None}])
    assert not rp.failed_before(block, [{"content": "```python\nprint(y)\n```"}, {"content": FAILURE}])
    assert not rp.failed_before(block, [{"content": FAILURE}, sent])  # the result comes after the code
    assert rp.failed_before(block, [{"content": None}, sent, {"content": FAILURE}])
    assert not rp.failed_before(block, [sent])


def _local_assistant(replies, system_message=SYSTEM, **config):
    """An assistant whose (scripted) model is configured as the local one: the protocol's local path."""
    model = ScriptedModelClient(replies)
    model.keep_requests = True
    assistant = parley.AssistantAgent("assistant", system_message=system_message, llm_config={
        "config_list": [{"model": "m", "api_type": "local", "client": model}], "cache_seed": None, **config})
    return assistant, model


def test_a_local_reply_is_asked_with_the_shape_s_grammar_and_code_sampling(tmp_path):
    assistant, model = _local_assistant(["```python\nprint(6 * 7)\n```"])
    runner = parley.UserProxyAgent("runner", human_input_mode="NEVER",
                                   code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})
    assert assistant.generate_reply([{"role": "user", "content": "Multiply 6 by 7."}], runner) == (
        "```python\nprint(6 * 7)\n```")
    request = model.requests[-1]
    assert request.response_format == {"type": "grammar", "grammar": rp.GRAMMARS[rp.CODE]}
    assert request.params == {"repeat_penalty": 1.0, "max_tokens": 256}
    assert request.messages[-1]["content"] == "Multiply 6 by 7."


def test_a_local_answer_is_steered_and_completed(tmp_path):
    assistant, model = _local_assistant(["It is 42."])
    runner = parley.UserProxyAgent("runner", human_input_mode="NEVER",
                                   code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})
    messages = [{"role": "user", "content": "Multiply 6 by 7."}, {"role": "assistant", "content": "```python\nprint(42)\n```"},
                {"role": "user", "content": SUCCESS}]
    assert assistant.generate_reply(messages, runner) == "It is 42.\n\nTERMINATE"
    request = model.requests[-1]
    assert request.response_format == {"type": "grammar", "grammar": rp.GRAMMARS[rp.ANSWER]}
    assert request.params == {}
    assert request.messages[-1]["content"].endswith(rp.ANSWER_HINT + "42")
    assert messages[-1]["content"] == SUCCESS


def test_a_local_reply_that_looks_like_json_is_kept_as_text(tmp_path):
    assistant, _ = _local_assistant([json.dumps({"answer": "It is 42."})])
    runner = parley.UserProxyAgent("runner", human_input_mode="NEVER",
                                   code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})
    messages = [{"role": "user", "content": "Multiply 6 by 7."}, {"role": "assistant", "content": "```python\nprint(42)\n```"},
                {"role": "user", "content": SUCCESS}]
    assert assistant.generate_reply(messages, runner) == '{"answer": "It is 42."}\n\nTERMINATE'
    block = "```python\nprint(x)\n```"
    assistant, _ = _local_assistant([block, json.dumps({"language": "sh", "code": "ls"})])
    messages = [{"role": "user", "content": "Print x."}, {"role": "assistant", "content": block},
                {"role": "user", "content": FAILURE}]
    assert assistant.generate_reply(messages, runner) == '```python\n{"language": "sh", "code": "ls"}\n```'


def test_code_that_failed_before_is_asked_again_once_with_sampling_seeded_by_the_turn(tmp_path):
    block = "```python\nprint(x)\n```"
    assistant, model = _local_assistant([block, "```python\nprint(1)\n```"], max_tokens=50)
    runner = parley.UserProxyAgent("runner", human_input_mode="NEVER",
                                   code_execution_config={"use_docker": False, "work_dir": str(tmp_path)})
    messages = [{"role": "user", "content": "Print x."}, {"role": "assistant", "content": block},
                {"role": "user", "content": FAILURE}]
    assert assistant.generate_reply(messages, runner) == "```python\nprint(1)\n```"
    first, second = model.requests
    assert first.params == {"repeat_penalty": 1.0, "max_tokens": 50}  # max_tokens: the config's, not the protocol's
    assert second.params == {"repeat_penalty": 1.0, "max_tokens": 50, "temperature": rp.RETRY_TEMPERATURE, "seed": 3}
    assert second.messages == first.messages and second.messages[-1]["content"].endswith(rp.FIX_HINT + " The error: NameError: x")
    assert second.response_format == first.response_format


def test_a_remote_retry_has_only_the_sampling_of_the_retry(tmp_path):
    block = "```python\nprint(x)\n```"
    model = ScriptedModelClient([json.dumps({"language": "python", "code": "print(x)"}),
                                 json.dumps({"language": "python", "code": "print(x)"})])
    model.keep_requests = True
    assistant = parley.AssistantAgent("assistant", llm_config={
        "config_list": [{"model": "m", "client": model}], "cache_seed": None, "reply_protocol": True})
    messages = [{"role": "user", "content": "Print x."}, {"role": "assistant", "content": block},
                {"role": "user", "content": FAILURE}, {"role": "assistant", "content": "hm"},
                {"role": "user", "content": "Try again."}]
    # The same failing block again: given once more, as it came (the retry is one attempt).
    assert assistant.generate_reply(messages, None) == block
    first, second = model.requests
    assert first.params == {} and second.params == {"temperature": 0.5, "seed": 5}


# ----------------------------------------------------------------- the grammars a local reply is generated under

CODE_SEEDS = ["```python\nprint(1)\n```", "```sh\nls -l\n\necho done\n```", "```python\n\n```",
              "```python\nx = '`'\n```", "```python\n    indented()\n```"]
ANSWER_SEEDS = ["It is 42. TERMINATE", "It is 42.\nTERMINATE", "It is 42.\n\nTERMINATE", "x TERMINATE"]
# Pieces the random edits insert: the ones the shapes are made of, and ordinary text.
PIECES = ["`", "```", "\n", "\n\n", " ", "x", "é", "TERMINATE", "python", "sh", "```python\n", "\t", "TERMIN"]


def _edits(seeds: list[str], count: int, seed: int) -> list[str]:
    """``count`` texts made from the seeds by one to three random insertions, deletions, replacements
    and additions at the end."""
    import random

    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        text = rng.choice(seeds)
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(("insert", "delete", "replace", "append"))
            at = len(text) if kind == "append" else rng.randint(0, len(text))
            cut = at + rng.randint(1, 3) if kind in ("delete", "replace") else at
            text = text[:at] + ("" if kind == "delete" else rng.choice(PIECES)) + text[cut:]
        texts.append(text)
    return texts


def _generable(text: str, shape: str) -> bool:
    """What the grammar should allow: exactly the texts that parse as ``shape``, except that the
    code grammar also wants at least one line in the block and lines of at most 161 characters
    (a tiny model that loops is cut there)."""
    if not rp.parses_as(text, shape):
        return False
    if shape == rp.CODE:
        body = text.split("\n")[1:-1]
        return bool(body) and all(len(line) <= 161 for line in body)
    return True


@pytest.mark.parametrize("shape", [rp.CODE, rp.ANSWER])
def test_a_reply_the_grammar_allows_always_parses_as_its_shape(grammar_steps, shape):
    # llama.cpp steps the grammar over each text token by token, as it does while a model writes:
    # whatever it lets through parses, and what parses (within the grammar's limits) gets through.
    grammar = rp.GRAMMARS[shape]
    seeds = CODE_SEEDS if shape == rp.CODE else ANSWER_SEEDS
    texts = seeds + _edits(CODE_SEEDS + ANSWER_SEEDS, 600, seed=len(shape))
    verdicts = {text: grammar_steps.accepts(grammar, text) for text in texts}
    assert all(verdicts[text] for text in seeds)
    wrong = [text for text, allowed in verdicts.items() if allowed != _generable(text, shape)]
    assert wrong == []
    assert 20 < sum(verdicts.values()) < len(texts) - 20  # the edits reach both sides


def test_the_grammars_limits(grammar_steps):
    code, answer = rp.GRAMMARS[rp.CODE], rp.GRAMMARS[rp.ANSWER]
    assert grammar_steps.accepts(code, "```python\n" + "x" * 161 + "\n```")
    assert not grammar_steps.accepts(code, "```python\n" + "x" * 162 + "\n```")
    assert not grammar_steps.accepts(code, "```python\n```")  # at least one line
    # Nothing after the block or TERMINATE, not even a newline (which a regex's "$" would allow).
    assert not grammar_steps.accepts(code, "```python\nx\n```\n") and not rp.parses_as("```python\nx\n```\n", rp.CODE)
    assert not grammar_steps.accepts(answer, "It is 42. TERMINATE\n") and not rp.parses_as("It is 42. TERMINATE\n", rp.ANSWER)


@pytest.mark.parametrize("shape", [rp.CODE, rp.ANSWER])
def test_a_completed_reply_is_one_the_grammar_allows(grammar_steps, shape):
    for text in ["", "```", "```python\nprint(1)", "It is", "It is 42. TERMIN", "```sh\n``` x", "a `b` c\n"]:
        assert grammar_steps.accepts(rp.GRAMMARS[shape], rp.complete_shape(text, shape)), text
