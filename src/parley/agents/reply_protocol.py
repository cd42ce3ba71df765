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
from typing import Any

CODE, ANSWER = "code", "answer"
LANGUAGES = ("python", "sh")

# A fenced block: the language, lines that do not start with a backtick, the closing fence, the end.
_CODE_GRAMMAR = r'''root ::= "```" lang "\n" line+ "```"
lang ::= "python" | "sh"
line ::= [^`\n] [^\n]* "\n" | "\n"
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

# What the steering tells the model with the answer shape: the prompt of this one call only.
ANSWER_HINT = "The code ran successfully. Its output above answers the task: state the answer it shows."

_SUCCESS = re.compile(r"^exitcode: 0 \(execution succeeded\)\nCode output: ?(.*)", re.DOTALL)
_CODE_BLOCK = re.compile(r"^```(python|sh)\n(.*\n)?```$", re.DOTALL)
_ANSWER = re.compile(r"^[^`\n][^`\n]*(\n\n|\n| )TERMINATE$")


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
    """The prompt for this call: with the answer shape, the hint follows the execution result."""
    if shape != ANSWER or not prompt:
        return prompt
    last = dict(prompt[-1])
    last["content"] = f"{last.get('content') or ''}\n\n{ANSWER_HINT}"
    return [*prompt[:-1], last]


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
    body = " ".join(text.replace("`", "'").split("\n")).strip() or "Done."
    return f"{body}\n\nTERMINATE"


def parses_as(text: str, shape: str) -> bool:
    """Whether ``text`` is exactly one reply of ``shape``."""
    if shape == CODE:
        match = _CODE_BLOCK.match(text)
        return match is not None and not any(line.startswith("`") for line in (match.group(2) or "").split("\n"))
    return bool(_ANSWER.match(text))


async def constrained_reply(agent: Any, client: Any, prompt: list[dict], messages: list[dict],
                            shapes: tuple[str, ...]) -> tuple[bool, str]:
    """The agent's model reply under the protocol (the hook in ``_reply_with_model``)."""
    shape = choose_shape(messages, shapes)
    local = is_local(agent.llm_config)
    _, reply = await agent._model_reply(client, steered_prompt(prompt, shape), request_format(shape, local))
    return True, reply_text(reply, shape, local)
