"""The model-facing prompt of an agent's history with one peer, kept and extended as it grows.

Rebuilding ``[system] + history`` (with tool messages expanded) for every model call would cost
O(history); keeping the prompt per peer and appending only the new messages keeps a message's
cost flat whatever the chat's length. The agent owns the caches (``_prompt_caches``); clearing a
history drops its cache.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

from .. import messages as _messages
from ..messages import EXPANDED_KEYS, expand_for_model

Peer = TypeVar("Peer", bound=Hashable)


class PromptCache:
    """The prompt for one history list, and how far into it the prompt has got."""

    __slots__ = ("count", "expandable_seen", "prompt", "source", "system")

    def __init__(self, source: list, system: dict) -> None:
        self.source = source
        self.system = system
        self.count = 0
        self.expandable_seen = -1  # messages.expandable_stored at the last update; -1: look at every message
        self.prompt: list[dict] = [system]


def prompt_for(caches: dict[Peer, PromptCache], histories: Mapping[Peer, list[dict]], peer: Peer | None,
               messages: list[dict], system: dict) -> list[dict]:
    """``[system] + messages`` as the model takes them: from ``caches`` when ``messages`` is the
    stored history with ``peer`` (extended with what is new), else built once and not kept."""
    cache = caches.get(peer) if peer is not None else None
    if cache is None or cache.source is not messages or cache.system is not system or cache.count > len(messages):
        if peer is None or messages is not histories.get(peer):
            # A list made by a hook or passed in by the caller: build it once, don't keep it.
            prompt = [system]
            for message in messages:
                expand_for_model(message, prompt)
            return prompt
        cache = caches[peer] = PromptCache(messages, system)
    count = len(messages)
    prompt = cache.prompt
    new = messages[cache.count:count]
    cache.count = count
    expandable = _messages.expandable_stored
    if cache.expandable_seen == expandable or all(map(EXPANDED_KEYS.isdisjoint, new)):
        prompt.extend(new)  # the common case: every new message goes to the model as stored
    else:
        for message in new:
            expand_for_model(message, prompt)
    cache.expandable_seen = expandable
    return prompt
