"""Chat summaries: ``last_msg``, ``reflection_with_llm``, or a callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..messages import content_str, expand_for_model
from .participant import Participant

SUMMARY_METHODS = ("last_msg", "reflection_with_llm")


def validate_summary_method(summary_method: str | Callable | None) -> None:
    if summary_method is None or callable(summary_method) or summary_method in SUMMARY_METHODS:
        return
    raise ValueError(f"summary_method must be one of {SUMMARY_METHODS}, a callable or None; got {summary_method!r}")


def last_message_summary(sender: Participant, recipient: Participant, summary_args: dict | None = None) -> str:
    """The last message of the chat, without the word TERMINATE."""
    try:
        message = recipient.last_message(sender)
    except (KeyError, ValueError):
        return ""
    if not message:
        return ""
    return content_str(message.get("content")).replace("TERMINATE", "").strip()


async def reflection_summary(sender: Participant, recipient: Participant, summary_args: dict, cache: Any) -> str:
    """Ask a model to summarise the chat: the recipient's model, else the sender's."""
    prompt = summary_args.get("summary_prompt") or sender.DEFAULT_SUMMARY_PROMPT
    role = summary_args.get("summary_role") or "system"
    if not isinstance(prompt, str):
        raise ValueError("summary_args['summary_prompt'] must be a str")
    client = recipient.client if recipient.client is not None else sender.client
    if client is None:
        raise ValueError(
            "summary_method='reflection_with_llm' needs a model: neither "
            f"{sender.name!r} nor {recipient.name!r} has an llm_config"
        )
    messages: list[dict] = []
    for message in recipient.chat_messages_for_summary(sender):
        expand_for_model(message, messages)  # the model-facing form, as for any reply (classic)
    messages.append({"role": role, "content": prompt})
    response = await client.a_create(messages, agent=sender.name, purpose="summary", cache=cache)
    return content_str(response.message.get("content"))


async def summarize_chat(sender: Participant, recipient: Participant, summary_method: str | Callable | None, summary_args: dict,
                         cache: Any) -> Any:
    if summary_method is None:
        return None
    if summary_method == "last_msg":
        return last_message_summary(sender, recipient, summary_args)
    if summary_method == "reflection_with_llm":
        return await reflection_summary(sender, recipient, summary_args, cache)
    assert callable(summary_method)  # validate_summary_method checked it
    result = summary_method(sender, recipient, summary_args)
    if hasattr(result, "__await__"):
        result = await result
    return result
