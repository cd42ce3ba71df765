"""The reply protocol: an assistant's reply constrained to the shape its system message asks for.

The classic assistant's system message asks for one of two replies: one fenced code block with
its language (for the user proxy to run), or a final answer that ends with ``TERMINATE``. A large
model follows that; a 135M-parameter one does not: it answers from memory, writes prose around
code, or writes the same block again after it ran. Under the protocol each reply is generated in
exactly one shape, chosen by what just happened in the chat:

- *code* (```` ```python ```` or ```` ```sh ```` block and nothing else): a task has just arrived, or
  the last run failed or printed nothing: until code has printed a result there is no evidence
  to answer from;
- *answer* (one paragraph, then ``TERMINATE``): the last message is a successful execution that
  printed something: the answer is in the output, so the assistant states it and ends the chat.

A multi-step task that needs a second script after a first successful one does not fit (the
assistant must answer after the first): run the steps as a sequence of chats (``initiate_chats``,
the first chat's answer carried over). An agent whose system message asks for only one of the
shapes is always given that one.

On a local model the shape is a llama.cpp grammar (``response_format`` ``{"type": "grammar"}``);
the grammar holds at every token, so the reply always parses. On any other model (only when
asked) it is a JSON schema (``{"type": "json_schema"}``, as OpenAI's structured outputs take it),
and the JSON reply is written back as the same text. A reply cut off by ``max_tokens`` is
completed (the fence closed, ``TERMINATE`` added), so it still has its shape.

On a local model a code reply's prompt (never the history) also carries two worked examples of
the protocol after the system message (:data:`EXAMPLES`); Python that does not compile is sampled
again (up to :data:`SYNTAX_RETRIES` times); after a failed run the fix hint ends with the error's
last line. Each was measured on ``bench/agent_tasks.py`` (``docs/bench/agent_tasks.md``).

**Configuration**, per agent: ``llm_config["reply_protocol"]``

- absent (default): on when every config-list entry is a local model (``api_type: "local"``),
  the system message asks for both shapes (it mentions a code block and ``TERMINATE``, as
  ``AssistantAgent``'s default one does) and the agent it replies to runs code; off otherwise, so a
  remote model's requests are exactly what they were;
- ``True``: on for any model, whoever it replies to;
- ``False``: off.
"""

from __future__ import annotations

import json
import re
from itertools import pairwise
from typing import Any

CODE, ANSWER = "code", "answer"
LANGUAGES = ("python", "sh")

# A fenced block: the language, lines that do not start with a backtick, the closing fence, the end.
_CODE_GRAMMAR = r'''root ::= "```" lang "\n" line+ "```"
lang ::= "python" | "sh"
line ::= [^`\n] [^\n]{0,160} "\n" | "\n"
'''
# One paragraph without code, then TERMINATE: a newline ends the answer (a tiny model that goes
# on writes another block or another guess).
_ANSWER_GRAMMAR = r'''root ::= [^`\n] [^`\n]* ("\n\n" | "\n" | " ") "TERMINATE"
'''
GRAMMARS = {CODE: _CODE_GRAMMAR, ANSWER: _ANSWER_GRAMMAR}

_SCHEMAS = {
    CODE: {
        "type": "object",
        "properties": {"language": {"type": "string", "enum": list(LANGUAGES)}, "code": {"type": "string"}},
        "required": ["language", "code"],
        "additionalProperties": False,
    },
    ANSWER: {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    },
}

# What the steering tells the model, in the prompt of that one call only (never in the history).
# The output is repeated at the end: a tiny model copies what it read last, so the answer it
# writes states the result rather than a guess (measured: bench/agent_tasks.py).
ANSWER_HINT = "Give the final answer to the task in one sentence. The code printed: "
FIX_HINT = "The code failed. Fix the error shown above and write the whole corrected script."
PRINT_HINT = "The code printed nothing. Write the whole script again so that it prints the result."
_HINT_OUTPUT_CHARS = 300
RETRY_TEMPERATURE = 0.5
CODE_REPEAT_PENALTY = 1.0
CODE_MAX_TOKENS = 256

# Worked examples of the protocol, placed after the system message in a local model's prompt
# (that call only; never in the history, never for a remote model): a 135M-parameter model
# copies a pattern it has seen far more reliably than it follows instructions. General tasks
# (a computation, a file read), none of the benchmark's.
def _example(task: str, code: str, output: str, answer: str) -> list[dict]:
    return [
        {"role": "user", "content": task},
        {"role": "assistant", "content": f"```python\n{code}\n```"},
        {"role": "user", "content": f"exitcode: 0 (execution succeeded)\nCode output: \n{output}\n\n{ANSWER_HINT}{output}"},
        {"role": "assistant", "content": f"{answer}\n\nTERMINATE"},
    ]


EXAMPLES = [
    *_example("How many seconds are there in 3 hours? Print the result.",
              "hours = 3\nseconds = hours * 60 * 60\nprint(seconds)", "10800",
              "There are 10800 seconds in 3 hours."),
    *_example("Print the first line of the file notes.txt.",
              "with open('notes.txt') as f:\n    first = f.readline().strip()\nprint(first)", "buy milk",
              "The first line of notes.txt is: buy milk"),
]
# Switches, so that a benchmark can measure the suite with and without each.
USE_EXAMPLES = True
ERROR_IN_HINT = True
SYNTAX_RETRIES = 2  # sampled attempts after Python code that does not compile

_SUCCESS = re.compile(r"^exitcode: 0 \(execution succeeded\)\nCode output: ?(.*)", re.DOTALL)
# \Z, not $: "$" also matches before a final newline, which the grammars do not allow.
_CODE_BLOCK = re.compile(r"^```(python|sh)\n(.*\n)?```\Z", re.DOTALL)
_ANSWER = re.compile(r"^[^`\n][^`\n]*(\n\n|\n| )TERMINATE\Z")


def shapes_asked(system_message: Any) -> tuple[str, ...]:
    """The shapes a system message asks for: a code block, a final answer ending with TERMINATE."""
    text = system_message if isinstance(system_message, str) else ""
    lowered = text.lower()
    shapes = []
    if "code block" in lowered or "coding block" in lowered:
        shapes.append(CODE)
    if "TERMINATE" in text:
        shapes.append(ANSWER)
    return tuple(shapes)


def is_local(llm_config: dict) -> bool:
    entries = llm_config.get("config_list") or [llm_config]
    return bool(entries) and all(isinstance(e, dict) and e.get("api_type") == "local" for e in entries)


def applies(llm_config: dict, system_message: Any, sender: Any, *, by_default: bool) -> tuple[str, ...]:
    """The shapes this agent's reply to ``sender`` is constrained to; empty: unconstrained.

    ``by_default``: the agent is one the protocol is on for when the option is absent
    (``AssistantAgent``); for others only ``reply_protocol: True`` turns it on.
    """
    option = llm_config.get("reply_protocol")
    if option is None:
        if not by_default or not is_local(llm_config) or getattr(sender, "code_execution_config", False) is False:
            return ()
    elif option is False:
        return ()
    if llm_config.get("tools") or llm_config.get("functions"):
        return ()  # a reply may be a tool call: not one of the text shapes
    shapes = shapes_asked(system_message)
    if option is True:
        return shapes or (CODE, ANSWER)
    return shapes if len(shapes) == 2 else ()


def successful_output(message: dict) -> str | None:
    """The printed output when ``message`` reports a successful execution, else None."""
    content = message.get("content")
    match = _SUCCESS.match(content) if isinstance(content, str) else None
    return match.group(1).strip() if match else None


def choose_shape(messages: list[dict], shapes: tuple[str, ...]) -> str:
    """The answer shape right after a successful run that printed something, else code."""
    if len(shapes) == 1:
        return shapes[0]
    output = successful_output(messages[-1]) if messages else None
    return ANSWER if output else CODE


def request_format(shape: str, local: bool) -> dict:
    """What the model request carries to constrain the reply to ``shape``."""
    if local:
        return {"type": "grammar", "grammar": GRAMMARS[shape]}
    return {"type": "json_schema", "json_schema": {"name": f"{shape}_reply", "strict": True, "schema": _SCHEMAS[shape]}}


def steered_prompt(prompt: list[dict], shape: str) -> list[dict]:
    """The prompt for this call: after an execution result, a hint for what to write next."""
    if not prompt:
        return prompt
    content = prompt[-1].get("content")
    if not isinstance(content, str):
        return prompt
    output = successful_output(prompt[-1])
    if shape == ANSWER and output:
        hint = ANSWER_HINT + " ".join(output[-_HINT_OUTPUT_CHARS:].split("\n"))
    elif shape == CODE and content.startswith("exitcode: 0 "):
        hint = PRINT_HINT  # it ran but printed nothing
    elif shape == CODE and content.startswith("exitcode: "):
        hint = FIX_HINT
        error = last_error_line(content) if ERROR_IN_HINT else None
        if error:
            # The error itself, last: a tiny model acts on what it read last.
            hint = f"{FIX_HINT} The error: {error}"
    else:
        return prompt
    return [*prompt[:-1], {**prompt[-1], "content": f"{content.rstrip()}\n\n{hint}"}]


def last_error_line(result: str) -> str | None:
    """The last line of a failed run's output that names an error (``NameError: ...``)."""
    for line in reversed(result.strip().split("\n")):
        if re.match(r"^\w*(Error|Exception)\b", line.strip()):
            return line.strip()[:_HINT_OUTPUT_CHARS]
    return None


def reply_text(content: Any, shape: str, local: bool) -> str:
    """The reply as text in ``shape``: a JSON reply rendered, a cut-off one completed."""
    text = content if isinstance(content, str) else ""
    if not local:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict) and shape == CODE and isinstance(value.get("code"), str):
            language = value.get("language") if value.get("language") in LANGUAGES else "python"
            text = f"```{language}\n{value['code'].rstrip()}\n```"
        elif isinstance(value, dict) and shape == ANSWER and isinstance(value.get("answer"), str):
            text = value["answer"].strip().removesuffix("TERMINATE").strip().replace("```", "'''")
            text = " ".join(text.split("\n")) + "\n\nTERMINATE"
    return complete_shape(text, shape)


def complete_shape(text: str, shape: str) -> str:
    """``text`` with its shape finished: a block cut off by max_tokens gets its closing fence, an
    answer its TERMINATE (an empty reply becomes the shape's smallest form)."""
    if parses_as(text, shape):
        return text
    if shape == CODE:
        lines = text.split("\n")
        language = lines[0][3:] if lines[0] in ("```python", "```sh") else "python"
        code = "\n".join(line for line in lines[1 if lines[0].startswith("```") else 0:] if not line.startswith("`"))
        return f"```{language}\n{code.strip(chr(10))}\n```"
    body = " ".join(text.replace("`", "'").split("\n")).strip().removesuffix("TERMINATE").strip() or "Done."
    return f"{body}\n\nTERMINATE"


def parses_as(text: str, shape: str) -> bool:
    """Whether ``text`` is exactly one reply of ``shape``."""
    if shape == CODE:
        match = _CODE_BLOCK.match(text)
        return match is not None and not any(line.startswith("`") for line in (match.group(2) or "").split("\n"))
    return bool(_ANSWER.match(text))


def sampling_params(llm_config: dict, shape: str, local: bool) -> dict | None:
    """Sampling for a local model's code, where the config does not set it. Code is repetitive (a
    name is used on every line): the local model's default repetition penalty made SmolLM2 rename
    things mid-script (``today = today.today()``), so code is sampled without it; without it a
    tiny model sometimes loops, so a script is cut at CODE_MAX_TOKENS (then run, and failing)."""
    if not local or shape != CODE:
        return None
    entries = [e for e in llm_config.get("config_list") or () if isinstance(e, dict)]
    params = {}
    for key, value in (("repeat_penalty", CODE_REPEAT_PENALTY), ("max_tokens", CODE_MAX_TOKENS)):
        if key not in llm_config and not any(key in e for e in entries):
            params[key] = value
    return params or None


def failed_before(text: str, messages: list[dict]) -> bool:
    """Whether ``text`` is a code reply that was sent before and failed when it ran."""
    for sent, result in pairwise(messages):
        content = result.get("content")
        if (sent.get("content") or "").strip() == text.strip() and isinstance(content, str) \
                and content.startswith("exitcode: ") and not content.startswith("exitcode: 0 "):
            return True
    return False


def with_examples(prompt: list[dict]) -> list[dict]:
    """A local model's prompt: the worked examples right after the system message."""
    if not USE_EXAMPLES or not prompt or prompt[0].get("role") != "system":
        return prompt
    return [prompt[0], *EXAMPLES, *prompt[1:]]


def python_compiles(text: str) -> bool:
    """Whether a code reply is shell, or Python that compiles (a syntax error would only fail)."""
    match = _CODE_BLOCK.match(text)
    if match is None or match.group(1) != "python":
        return True
    try:
        compile(match.group(2) or "", "<reply>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


async def constrained_reply(agent: Any, client: Any, prompt: list[dict], messages: list[dict],
                            shapes: tuple[str, ...]) -> tuple[bool, str]:
    """The agent's model reply under the protocol (the hook in ``_reply_with_model``)."""
    shape = choose_shape(messages, shapes)
    local = is_local(agent.llm_config)
    steered, response_format = steered_prompt(prompt, shape), request_format(shape, local)
    if local and shape == CODE:
        # For code only: in an answer's prompt SmolLM2 copied the last example's answer
        # ("The first line of notes.txt is: 2026-12-02"); the answer hint steers answers well.
        steered = with_examples(steered)
    params = sampling_params(agent.llm_config, shape, local)
    _, reply = await agent._model_reply(client, steered, response_format, params)
    text = reply_text(reply, shape, local)
    if shape != CODE:
        return True, text
    retries = SYNTAX_RETRIES if local else 0
    if failed_before(text, messages) or (retries and not python_compiles(text)):
        # Greedy decoding wrote a block that already failed (it would again, every turn) or one
        # that cannot compile: sampled retries (seeded by the turn and the attempt, so a run is
        # reproducible) give other attempts; the first that compiles and is new is kept.
        for attempt in range(max(1, retries)):
            retry = {**(params or {}), "temperature": RETRY_TEMPERATURE, "seed": len(messages) + 1000 * attempt}
            _, reply = await agent._model_reply(client, steered, response_format, retry)
            text = reply_text(reply, shape, local)
            if not failed_before(text, messages) and (not retries or python_compiles(text)):
                break
    return True, text
