"""The message shape: OpenAI-style chat dicts, as in classic AutoGen.

A message is a dict with some of: ``content`` (str, None, or a list of parts), ``role``,
``name``, ``tool_calls``, ``tool_call_id``, ``function_call``, ``tool_responses``, ``context``.
"""

from __future__ import annotations

import re
from typing import Any

# Keys kept when a message is stored in an agent's history (classic `_append_oai_message`).
OAI_MESSAGE_KEYS = ("content", "function_call", "tool_calls", "tool_responses", "tool_call_id", "name", "context")
# Keys that make the model see a message other than as stored: tool responses are unrolled, a
# context is dropped, and a tool message (``tool_call_id``) loses the name the API would reject.
EXPANDED_KEYS = frozenset(("tool_responses", "context", "tool_call_id"))

# How many messages that need expanding for the model (``EXPANDED_KEYS``) have been stored so
# far. A prompt cache that saw the same count last time knows none of its new messages needs
# it, without looking at each (a group chat brings N-1 new messages a turn).
expandable_stored = 0


def note_stored(message: dict) -> None:
    """Count ``message`` if it needs expanding: for code that stores messages without ``to_oai_message``."""
    global expandable_stored
    if not EXPANDED_KEYS.isdisjoint(message):
        expandable_stored += 1


def message_to_dict(message: dict | str) -> dict:
    """A str becomes ``{"content": str}``; a dict is returned as is, except that a classic template
    (``content`` a function of the message's ``context``) is filled in."""
    if isinstance(message, str):
        return {"content": message}
    if isinstance(message, dict):
        if "context" in message and callable(message.get("content")):
            return {**message, "content": message["content"](message["context"] or {})}
        return message
    raise TypeError(f"message must be a str or a dict, not {type(message).__name__}")


def content_str(content: str | list | None) -> str:
    """Text of a message's content: None is "", a list of parts is their text joined.

    Image parts are shown as ``<image>`` so a transcript or a termination check never fails on them.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for part in content:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict):
                kind = part.get("type")
                if kind == "text":
                    pieces.append(part.get("text", ""))
                elif kind in ("image_url", "image"):
                    pieces.append("<image>")
                else:
                    raise ValueError(f"Wrong content format: unknown content part type {kind!r}")
            else:
                raise TypeError(f"content parts must be str or dict, not {type(part).__name__}")
        return "".join(pieces)
    raise TypeError(f"content must be str, list or None, not {type(content).__name__}")


def to_oai_message(message: dict, role: str, name: str) -> dict | None:
    """The stored form of a message: classic keys only, with role and name set.

    Returns None when the message has nothing to store (no content, no calls; None counts as none).
    """
    if len(message) == 1 and message.get("content") is not None:
        # The common case (a plain text message): no key filtering needed.
        return {"content": message["content"], "role": role, "name": name}
    # Classic's keys in classic's order; a key set to None counts as absent (classic).
    stored = {k: message[k] for k in OAI_MESSAGE_KEYS if message.get(k) is not None}
    if "content" not in stored:
        if "function_call" in stored or "tool_calls" in stored:
            stored["content"] = None
        else:
            return None
    if message.get("role") in ("function", "tool"):
        stored["role"] = message["role"]
    elif "override_role" in message:
        stored["role"] = message["override_role"]
    else:
        stored["role"] = role
    if stored.get("tool_calls") or stored.get("function_call"):
        # A message that calls a tool is always the assistant's, whoever relays it; classic
        # adds no name to it (one it already has is kept).
        stored["role"] = "assistant"
    elif "name" not in stored:
        # Every other message, tool responses included, carries its sender's name (classic).
        stored["name"] = name
    note_stored(stored)
    return stored


def expand_for_model(message: dict, out: list) -> None:
    """Append the model-facing form of one stored message to ``out``.

    A tool-responses message becomes its individual tool messages (what providers expect, and
    nameless); any other tool message is sent without the name the history keeps.
    """
    tool_responses = message.get("tool_responses")
    if tool_responses:
        out.extend(tool_responses)
        return
    dropped = ("tool_responses", "context", "name") if message.get("role") == "tool" else ("tool_responses", "context")
    if any(key in message for key in dropped):
        message = {k: v for k, v in message.items() if k not in dropped}
    out.append(message)


# Classic's attribute syntax inside a tag: ``<img http://x.png width='100'>``.
_KEY = re.compile(r"(?:^|(?<=\s))(\w+)=")


def _parse_attributes(text: str) -> dict[str, str]:
    """``http://x.png width='100'`` -> ``{"src": "http://x.png", "width": "100"}``: a leading bare value
    is the ``src``; each ``key=`` starts an attribute whose value runs to the next ``key=``."""
    attrs: dict[str, str] = {}
    keys = list(_KEY.finditer(text))
    head = text[: keys[0].start()] if keys else text
    if head.strip():
        attrs["src"] = head.strip()
    for i, key in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(text)
        value = text[key.end(): end].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        attrs[key.group(1)] = value
    return attrs


def parse_tags_from_content(tag: str, content: str | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``<tag ...>`` elements in a message's content: ``[{"tag", "attr": {...}, "match"}]``, in order.

    ``<img http://x.png>`` gives ``attr={"src": "http://x.png"}``; ``<audio text='Hi' prompt='whisper'>``
    gives both attributes. Multimodal content is searched in its text parts.
    """
    text = content if isinstance(content, str) else content_str(content)
    pattern = re.compile(rf"<{re.escape(tag)}\s+([^>]*)>")
    return [{"tag": tag, "attr": _parse_attributes(match.group(1)), "match": match} for match in pattern.finditer(text)]
