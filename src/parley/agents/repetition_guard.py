"""The repetition guard: a user proxy that is sent the same code again after it ran successfully.

A model that does not see that its task is done writes the same block again, and a user proxy
that runs it again gets the same output, until the auto-reply limit. With
``UserProxyAgent(..., repetition_guard=True)`` the first repeat is not run again: the reply is the
earlier result, in the classic result text, followed by a short note (:data:`NOTE`). A second
repeat of the same code ends the chat: no reply, a ``TerminationChecked`` event with reason
``"repeated_code"`` and a notice saying why. Code that differs in anything but surrounding
whitespace, and code whose earlier run failed, run as usual. Off by default (classic behaviour);
``parley demo`` turns it on. It works the same whatever model writes the code.

The guard reads only the chat history (what was sent and answered), so a resumed chat sees the
same repeats as the original.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from .. import events
from ..code import extract_code_blocks

NOTE = ("Note: this is the same code as before, which already ran successfully with the output above; "
        "it was not run again. If the output answers the task, reply with the answer and TERMINATE.")
REASON = "repeated_code"


def _blocks(message: dict) -> tuple[tuple[str, str], ...]:
    content = message.get("content")
    if not isinstance(content, str) or "```" not in content:
        return ()
    return tuple((block.language, block.code.strip()) for block in extract_code_blocks(content))


def guard_reply(agent: Any, messages: list[dict] | None = None, sender: Any = None, config: Any = None) -> tuple[bool, Any]:
    """The reply function, placed just before code execution in the agent's reply chain."""
    if messages is None:
        messages = agent.chat_messages.get(sender, []) if sender is not None else []
    if not messages:
        return False, None
    code = _blocks(messages[-1])
    if not code:
        return False, None
    earlier_result, noted = None, 0
    for message, answer in pairwise(messages[:-1]):
        if _blocks(message) != code:
            continue
        text = answer.get("content")
        if not isinstance(text, str):
            continue
        if text.endswith(NOTE):
            noted += 1
        elif text.startswith("exitcode: 0 "):
            earlier_result = text
    if earlier_result is None:
        return False, None  # never ran successfully: run it
    if noted == 0:
        return True, f"{earlier_result.rstrip()}\n\n{NOTE}"
    events.emit(events.Notice(
        text=f"{agent.name}: the chat ends: the same code was sent again after it had run successfully and "
             "after the note saying so", level="warning",
    ))
    events.emit(events.TerminationChecked(agent=agent.name, reason=REASON))
    return True, None


def install(agent: Any) -> None:
    """Put the guard in ``agent``'s reply chain, right before its code execution."""
    from .agent import Agent
    from .conversable import ConversableAgent

    chain = [entry["reply_func"] for entry in agent._reply_func_list]
    agent.register_reply([Agent, None], guard_reply, position=chain.index(ConversableAgent._reply_code_execution))
